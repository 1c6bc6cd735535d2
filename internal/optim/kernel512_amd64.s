//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 version of adamAVX2Asm (kernel_amd64.s) for blocks of 16 floats:
// the same instructions on ZMM registers, so each element goes through
// exactly adamGeneric's operations, each rounded to float32, with no fused
// multiply-add. n, the number of elements, is a multiple of 16.
//
// On the Zen 5 development machine, whose VSQRTPS and VDIVPS are full
// width, it takes 0.6x the time of the AVX2 kernel per float, in cache and
// out of it (BenchmarkAdamKernel); on Intel cores with half-rate 512-bit
// square roots and divisions it may not pay (see kernel_amd64.s).

// func adamAVX512Asm(p, grad, m, v *float32, n int, k *adamConsts)
TEXT ·adamAVX512Asm(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), AX
	SHLQ $2, CX         // n in bytes
	XORQ BX, BX         // byte offset

	VBROADCASTSS 0(AX), Z7   // shrink
	VBROADCASTSS 4(AX), Z8   // wd
	VBROADCASTSS 8(AX), Z9   // b1
	VBROADCASTSS 12(AX), Z10 // 1-b1
	VBROADCASTSS 16(AX), Z11 // b2
	VBROADCASTSS 20(AX), Z12 // 1-b2
	VBROADCASTSS 24(AX), Z13 // step
	VBROADCASTSS 28(AX), Z14 // invS
	VBROADCASTSS 32(AX), Z15 // eps

	TESTQ CX, CX
	JZ    adam512done

adam512loop:
	VMULPS  (DI)(BX*1), Z7, Z0 // p = p*shrink
	VMULPS  Z8, Z0, Z1         // wd*p
	VADDPS  (SI)(BX*1), Z1, Z1 // g' = g + wd*p
	VMULPS  (R8)(BX*1), Z9, Z2 // b1*m
	VMULPS  Z10, Z1, Z3        // (1-b1)*g'
	VADDPS  Z3, Z2, Z2         // m = b1*m + (1-b1)*g'
	VMOVUPS Z2, (R8)(BX*1)
	VMULPS  (R9)(BX*1), Z11, Z3 // b2*v
	VMULPS  Z12, Z1, Z4         // (1-b2)*g'
	VMULPS  Z1, Z4, Z4          // ((1-b2)*g')*g'
	VADDPS  Z4, Z3, Z3          // v = b2*v + ((1-b2)*g')*g'
	VMOVUPS Z3, (R9)(BX*1)
	VSQRTPS Z3, Z3              // sqrt(v)
	VMULPS  Z14, Z3, Z3         // sqrt(v)*invS
	VADDPS  Z15, Z3, Z3         // denom = sqrt(v)*invS + eps
	VMULPS  Z13, Z2, Z2         // step*m
	VDIVPS  Z3, Z2, Z2          // (step*m)/denom
	VSUBPS  Z2, Z0, Z0          // p - (step*m)/denom
	VMOVUPS Z0, (DI)(BX*1)
	ADDQ    $64, BX
	CMPQ    BX, CX
	JB      adam512loop

adam512done:
	VZEROUPPER
	RET
