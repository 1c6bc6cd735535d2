//go:build amd64 && !purego

#include "textflag.h"

// func sumSqAVX2(p *byte, n int, acc *[8]uint64)
//
// Adds to acc[0:4] partial sums of the n bytes at p and to acc[4:8]
// partial sums of their squares, exactly, in 64-bit integers; the caller
// adds the eight up. n is a multiple of 32. VPSADBW against zero sums each
// 8 bytes into a 64-bit lane; VPMADDWD of the bytes widened to 16 bits with
// themselves gives sums of two squares (at most 2*255^2) in 32-bit lanes,
// widened to 64 bits before they are added up.
TEXT ·sumSqAVX2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ acc+16(FP), AX
	VPXOR Y15, Y15, Y15 // zero
	VMOVDQU 0(AX), Y0   // sums
	VMOVDQU 32(AX), Y1  // squares, even dwords
	VPXOR   Y8, Y8, Y8  // squares, odd dwords
	XORQ BX, BX

	TESTQ CX, CX
	JZ    sumdone

sumloop:
	VMOVDQU    (SI)(BX*1), Y2
	VPSADBW    Y15, Y2, Y3
	VPADDQ     Y3, Y0, Y0
	VPMOVZXBW  (SI)(BX*1), Y4
	VPMOVZXBW  16(SI)(BX*1), Y5
	VPMADDWD   Y4, Y4, Y4
	VPMADDWD   Y5, Y5, Y5
	VPADDD     Y5, Y4, Y4     // at most 4*255^2 per dword
	VPUNPCKLDQ Y15, Y4, Y6
	VPUNPCKHDQ Y15, Y4, Y7
	VPADDQ     Y6, Y1, Y1
	VPADDQ     Y7, Y8, Y8
	ADDQ       $32, BX
	CMPQ       BX, CX
	JB         sumloop

sumdone:
	VPADDQ  Y8, Y1, Y1
	VMOVDQU Y0, 0(AX)
	VMOVDQU Y1, 32(AX)
	VZEROUPPER
	RET

// func prefetchAsm(p *byte, n int)
//
// Asks for the n bytes at p (n > 0) to be brought into the caches, one
// PREFETCHT0 per 64-byte line: a hint, which changes no value.
TEXT ·prefetchAsm(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	ADDQ SI, CX

prefetchloop:
	PREFETCHT0 (SI)
	ADDQ       $64, SI
	CMPQ       SI, CX
	JB         prefetchloop
	RET
