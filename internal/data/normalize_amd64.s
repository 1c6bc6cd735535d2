//go:build amd64 && !purego

#include "textflag.h"

// SIMD versions of normalizeGo (normalize.go): each byte v becomes
// (float32(v)/255 - mean) / std through exactly the Go code's operations,
// each rounded to float32: VCVTDQ2PS (exact for a byte), VDIVPS, VSUBPS,
// VDIVPS. Two vectors per iteration keep both dividers busy. n, the number
// of bytes, is a multiple of the bytes per iteration (16 or 32); the Go
// wrappers in normalize_amd64.go do the rest.

// func normAVX2Asm(dst *float32, src *byte, n int, k *normConsts)
TEXT ·normAVX2Asm(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ k+24(FP), AX
	VBROADCASTSS 0(AX), Y13 // 255
	VBROADCASTSS 4(AX), Y14 // mean
	VBROADCASTSS 8(AX), Y15 // std
	XORQ BX, BX             // byte index

	TESTQ CX, CX
	JZ    avx2done

avx2loop:
	VPMOVZXBD (SI)(BX*1), Y0  // 8 bytes -> 8 int32
	VPMOVZXBD 8(SI)(BX*1), Y1
	VCVTDQ2PS Y0, Y0
	VCVTDQ2PS Y1, Y1
	VDIVPS    Y13, Y0, Y0     // v/255
	VDIVPS    Y13, Y1, Y1
	VSUBPS    Y14, Y0, Y0     // v/255 - mean
	VSUBPS    Y14, Y1, Y1
	VDIVPS    Y15, Y0, Y0     // (v/255 - mean)/std
	VDIVPS    Y15, Y1, Y1
	VMOVUPS   Y0, (DI)(BX*4)
	VMOVUPS   Y1, 32(DI)(BX*4)
	ADDQ      $16, BX
	CMPQ      BX, CX
	JB        avx2loop

avx2done:
	VZEROUPPER
	RET

// func normAVX512Asm(dst *float32, src *byte, n int, k *normConsts)
TEXT ·normAVX512Asm(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ k+24(FP), AX
	VBROADCASTSS 0(AX), Z13 // 255
	VBROADCASTSS 4(AX), Z14 // mean
	VBROADCASTSS 8(AX), Z15 // std
	XORQ BX, BX             // byte index

	TESTQ CX, CX
	JZ    avx512done

avx512loop:
	VPMOVZXBD (SI)(BX*1), Z0   // 16 bytes -> 16 int32
	VPMOVZXBD 16(SI)(BX*1), Z1
	VCVTDQ2PS Z0, Z0
	VCVTDQ2PS Z1, Z1
	VDIVPS    Z13, Z0, Z0      // v/255
	VDIVPS    Z13, Z1, Z1
	VSUBPS    Z14, Z0, Z0      // v/255 - mean
	VSUBPS    Z14, Z1, Z1
	VDIVPS    Z15, Z0, Z0      // (v/255 - mean)/std
	VDIVPS    Z15, Z1, Z1
	VMOVUPS   Z0, (DI)(BX*4)
	VMOVUPS   Z1, 64(DI)(BX*4)
	ADDQ      $32, BX
	CMPQ      BX, CX
	JB        avx512loop

avx512done:
	VZEROUPPER
	RET
