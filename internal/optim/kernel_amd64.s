//go:build amd64 && !purego

#include "textflag.h"

// AVX2 versions of adamGeneric and sgdGeneric (kernel.go) for blocks of 8
// floats. Each element goes through exactly the operations of the Go loop,
// in the same order, each rounded to float32: VMULPS, VADDPS, VSUBPS,
// VSQRTPS and VDIVPS only, never a fused multiply-add. n, the number of
// elements, is a multiple of 8; the Go wrappers in kernel_amd64.go process
// the remaining elements.
//
// There is no AVX-512 version: on the development machine (a Sapphire
// Rapids class Xeon) 16-wide VSQRTPS and VDIVPS, the bottleneck of the Adam
// update when its data are in cache, took about 10% longer per float than
// 8-wide ones, and out of cache both widths are limited by memory
// bandwidth.

// func adamAVX2Asm(p, grad, m, v *float32, n int, k *adamConsts)
TEXT ·adamAVX2Asm(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), AX
	SHLQ $2, CX         // n in bytes
	XORQ BX, BX         // byte offset

	VBROADCASTSS 0(AX), Y7   // shrink
	VBROADCASTSS 4(AX), Y8   // wd
	VBROADCASTSS 8(AX), Y9   // b1
	VBROADCASTSS 12(AX), Y10 // 1-b1
	VBROADCASTSS 16(AX), Y11 // b2
	VBROADCASTSS 20(AX), Y12 // 1-b2
	VBROADCASTSS 24(AX), Y13 // step
	VBROADCASTSS 28(AX), Y14 // invS
	VBROADCASTSS 32(AX), Y15 // eps

	TESTQ CX, CX
	JZ    adamdone

adamloop:
	VMULPS  (DI)(BX*1), Y7, Y0 // p = p*shrink
	VMULPS  Y8, Y0, Y1         // wd*p
	VADDPS  (SI)(BX*1), Y1, Y1 // g' = g + wd*p
	VMULPS  (R8)(BX*1), Y9, Y2 // b1*m
	VMULPS  Y10, Y1, Y3        // (1-b1)*g'
	VADDPS  Y3, Y2, Y2         // m = b1*m + (1-b1)*g'
	VMOVUPS Y2, (R8)(BX*1)
	VMULPS  (R9)(BX*1), Y11, Y3 // b2*v
	VMULPS  Y12, Y1, Y4         // (1-b2)*g'
	VMULPS  Y1, Y4, Y4          // ((1-b2)*g')*g'
	VADDPS  Y4, Y3, Y3          // v = b2*v + ((1-b2)*g')*g'
	VMOVUPS Y3, (R9)(BX*1)
	VSQRTPS Y3, Y3              // sqrt(v)
	VMULPS  Y14, Y3, Y3         // sqrt(v)*invS
	VADDPS  Y15, Y3, Y3         // denom = sqrt(v)*invS + eps
	VMULPS  Y13, Y2, Y2         // step*m
	VDIVPS  Y3, Y2, Y2          // (step*m)/denom
	VSUBPS  Y2, Y0, Y0          // p - (step*m)/denom
	VMOVUPS Y0, (DI)(BX*1)
	ADDQ    $32, BX
	CMPQ    BX, CX
	JB      adamloop

adamdone:
	VZEROUPPER
	RET

// func sgdAVX2Asm(p, grad, vel *float32, n int, k *sgdConsts)
TEXT ·sgdAVX2Asm(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ vel+16(FP), R8
	MOVQ n+24(FP), CX
	MOVQ k+32(FP), AX
	MOVQ 16(AX), DX     // flags
	SHLQ $2, CX         // n in bytes
	XORQ BX, BX         // byte offset

	VBROADCASTSS 0(AX), Y13 // wd
	VBROADCASTSS 4(AX), Y14 // mu
	VBROADCASTSS 8(AX), Y15 // rate

	TESTQ CX, CX
	JZ    sgddone

	// The flags are the same for every block: the branches are predicted.
sgdloop:
	VMOVUPS (DI)(BX*1), Y0     // p
	VMULPS  Y13, Y0, Y1        // wd*p
	VADDPS  (SI)(BX*1), Y1, Y1 // g' = g + wd*p
	TESTQ   $1, DX             // sgdMomentum
	JZ      sgdupdate
	VMOVAPS Y1, Y2             // vel = g' on the first step
	TESTQ   $2, DX             // sgdFirst
	JNZ     sgdstore
	VMULPS  (R8)(BX*1), Y14, Y2 // mu*vel
	VADDPS  Y1, Y2, Y2          // vel = mu*vel + g'

sgdstore:
	VMOVUPS Y2, (R8)(BX*1)
	TESTQ   $4, DX // sgdNesterov
	JNZ     sgdnesterov
	VMOVAPS Y2, Y1 // g' = vel
	JMP     sgdupdate

sgdnesterov:
	VMULPS Y14, Y2, Y3 // mu*vel
	VADDPS Y3, Y1, Y1  // g' = g' + mu*vel

sgdupdate:
	VMULPS  Y15, Y1, Y1 // rate*g'
	VSUBPS  Y1, Y0, Y0  // p - rate*g'
	VMOVUPS Y0, (DI)(BX*1)
	ADDQ    $32, BX
	CMPQ    BX, CX
	JB      sgdloop

sgddone:
	VZEROUPPER
	RET
