//go:build amd64 && !purego

#include "textflag.h"

// One rank-1 update of the 8x32 accumulator tile held in Z0..Z15 (row r in
// Z(2r), Z(2r+1)). AO/BO are byte offsets into the packed A (8 floats per
// step, at AX) and packed B (32 floats per step, at BX) micro-panels.
#define RANK1X32(AO, BO) \
	VMOVUPS      BO(BX), Z16          \
	VMOVUPS      BO+64(BX), Z17       \
	VBROADCASTSS AO(AX), Z18          \
	VBROADCASTSS AO+4(AX), Z19        \
	VBROADCASTSS AO+8(AX), Z20        \
	VBROADCASTSS AO+12(AX), Z21       \
	VFMADD231PS  Z16, Z18, Z0         \
	VFMADD231PS  Z17, Z18, Z1         \
	VFMADD231PS  Z16, Z19, Z2         \
	VFMADD231PS  Z17, Z19, Z3         \
	VBROADCASTSS AO+16(AX), Z22       \
	VBROADCASTSS AO+20(AX), Z23       \
	VFMADD231PS  Z16, Z20, Z4         \
	VFMADD231PS  Z17, Z20, Z5         \
	VFMADD231PS  Z16, Z21, Z6         \
	VFMADD231PS  Z17, Z21, Z7         \
	VBROADCASTSS AO+24(AX), Z24       \
	VBROADCASTSS AO+28(AX), Z25       \
	VFMADD231PS  Z16, Z22, Z8         \
	VFMADD231PS  Z17, Z22, Z9         \
	VFMADD231PS  Z16, Z23, Z10        \
	VFMADD231PS  Z17, Z23, Z11        \
	VFMADD231PS  Z16, Z24, Z12        \
	VFMADD231PS  Z17, Z24, Z13        \
	VFMADD231PS  Z16, Z25, Z14        \
	VFMADD231PS  Z17, Z25, Z15

// Overwrite one C row: C = alpha*acc (alpha in Z26).
#define STORE0X32(Z_LO, Z_HI) \
	VMULPS  Z26, Z_LO, Z_LO \
	VMULPS  Z26, Z_HI, Z_HI \
	VMOVUPS Z_LO, (DI)      \
	VMOVUPS Z_HI, 64(DI)    \
	ADDQ    DX, DI

// Update one C row: C = alpha*acc + beta*C (alpha in Z26, beta in Z27),
// with the same operation sequence as the AVX2 kernel.
#define STOREBX32(Z_LO, Z_HI) \
	VMULPS      (DI), Z27, Z28   \
	VMULPS      64(DI), Z27, Z29 \
	VFMADD231PS Z26, Z_LO, Z28   \
	VFMADD231PS Z26, Z_HI, Z29   \
	VMOVUPS     Z28, (DI)        \
	VMOVUPS     Z29, 64(DI)      \
	ADDQ        DX, DI

// Prefetch one C row of 32 floats at R10 (three lines when unaligned)
// and step R10 to the next row (stride DX).
#define PREFETCHROW32 \
	PREFETCHT0 (R10)    \
	PREFETCHT0 64(R10)  \
	PREFETCHT0 124(R10) \
	ADDQ       DX, R10

// func kernel8x32AVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32, useBeta int)
TEXT ·kernel8x32AVX512(SB), NOSPLIT, $0-56
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DI
	MOVQ ldc+32(FP), DX
	SHLQ $2, DX

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15

	// Fetch the C tile while the products accumulate (it is read at the
	// end when beta is used, and written in any case).
	MOVQ DI, R10
	PREFETCHROW32
	PREFETCHROW32
	PREFETCHROW32
	PREFETCHROW32
	PREFETCHROW32
	PREFETCHROW32
	PREFETCHROW32
	PREFETCHROW32

	MOVQ CX, R8
	SHRQ $2, R8
	JZ   tail

loop4:
	RANK1X32(0, 0)
	RANK1X32(32, 128)
	RANK1X32(64, 256)
	RANK1X32(96, 384)
	ADDQ $128, AX
	ADDQ $512, BX
	DECQ R8
	JNZ  loop4

tail:
	ANDQ $3, CX
	JZ   store

loop1:
	RANK1X32(0, 0)
	ADDQ $32, AX
	ADDQ $128, BX
	DECQ CX
	JNZ  loop1

store:
	VBROADCASTSS alpha+40(FP), Z26
	MOVQ         useBeta+48(FP), R9
	TESTQ        R9, R9
	JNZ          storebeta

	STORE0X32(Z0, Z1)
	STORE0X32(Z2, Z3)
	STORE0X32(Z4, Z5)
	STORE0X32(Z6, Z7)
	STORE0X32(Z8, Z9)
	STORE0X32(Z10, Z11)
	STORE0X32(Z12, Z13)
	STORE0X32(Z14, Z15)
	VZEROUPPER
	RET

storebeta:
	VBROADCASTSS beta+44(FP), Z27
	STOREBX32(Z0, Z1)
	STOREBX32(Z2, Z3)
	STOREBX32(Z4, Z5)
	STOREBX32(Z6, Z7)
	STOREBX32(Z8, Z9)
	STOREBX32(Z10, Z11)
	STOREBX32(Z12, Z13)
	STOREBX32(Z14, Z15)
	VZEROUPPER
	RET
