//go:build amd64 && !purego

#include "textflag.h"

// One rank-1 update of the 6x16 accumulator tile held in Y0..Y11.
// AO/BO are byte offsets into the packed A (6 floats per k) and packed B
// (16 floats per k) micro-panels addressed by AX and BX.
#define RANK1(AO, BO) \
	VMOVUPS      BO(BX), Y12           \
	VMOVUPS      BO+32(BX), Y13        \
	VBROADCASTSS AO(AX), Y14           \
	VFMADD231PS  Y12, Y14, Y0          \
	VFMADD231PS  Y13, Y14, Y1          \
	VBROADCASTSS AO+4(AX), Y15         \
	VFMADD231PS  Y12, Y15, Y2          \
	VFMADD231PS  Y13, Y15, Y3          \
	VBROADCASTSS AO+8(AX), Y14         \
	VFMADD231PS  Y12, Y14, Y4          \
	VFMADD231PS  Y13, Y14, Y5          \
	VBROADCASTSS AO+12(AX), Y15        \
	VFMADD231PS  Y12, Y15, Y6          \
	VFMADD231PS  Y13, Y15, Y7          \
	VBROADCASTSS AO+16(AX), Y14        \
	VFMADD231PS  Y12, Y14, Y8          \
	VFMADD231PS  Y13, Y14, Y9          \
	VBROADCASTSS AO+20(AX), Y15        \
	VFMADD231PS  Y12, Y15, Y10         \
	VFMADD231PS  Y13, Y15, Y11

// Overwrite one C row: C = alpha*acc (alpha in Y14).
#define STORE0(Y_LO, Y_HI) \
	VMULPS  Y14, Y_LO, Y_LO \
	VMULPS  Y14, Y_HI, Y_HI \
	VMOVUPS Y_LO, (DI)      \
	VMOVUPS Y_HI, 32(DI)    \
	ADDQ    DX, DI

// Update one C row: C = alpha*acc + beta*C (alpha in Y14, beta in Y15).
#define STOREB(Y_LO, Y_HI) \
	VMULPS      (DI), Y15, Y12   \
	VMULPS      32(DI), Y15, Y13 \
	VFMADD231PS Y14, Y_LO, Y12   \
	VFMADD231PS Y14, Y_HI, Y13   \
	VMOVUPS     Y12, (DI)        \
	VMOVUPS     Y13, 32(DI)      \
	ADDQ        DX, DI

// Prefetch one C row of 16 floats at R10 (two lines when unaligned) and
// step R10 to the next row (stride DX).
#define PREFETCHROW16 \
	PREFETCHT0 (R10)   \
	PREFETCHT0 60(R10) \
	ADDQ       DX, R10

// func kernel6x16AVX2(kc int, a, b, c *float32, ldc int, alpha, beta float32, useBeta int)
TEXT ·kernel6x16AVX2(SB), NOSPLIT, $0-56
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DI
	MOVQ ldc+32(FP), DX
	SHLQ $2, DX

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	// Fetch the C tile while the products accumulate (it is read at the
	// end when beta is used, and written in any case).
	MOVQ DI, R10
	PREFETCHROW16
	PREFETCHROW16
	PREFETCHROW16
	PREFETCHROW16
	PREFETCHROW16
	PREFETCHROW16

	MOVQ CX, R8
	SHRQ $2, R8
	JZ   tail

loop4:
	PREFETCHT0 384(BX)
	RANK1(0, 0)
	RANK1(24, 64)
	PREFETCHT0 448(BX)
	RANK1(48, 128)
	RANK1(72, 192)
	ADDQ $96, AX
	ADDQ $256, BX
	DECQ R8
	JNZ  loop4

tail:
	ANDQ $3, CX
	JZ   store

loop1:
	RANK1(0, 0)
	ADDQ $24, AX
	ADDQ $64, BX
	DECQ CX
	JNZ  loop1

store:
	VBROADCASTSS alpha+40(FP), Y14
	MOVQ         useBeta+48(FP), R9
	TESTQ        R9, R9
	JNZ          storebeta

	STORE0(Y0, Y1)
	STORE0(Y2, Y3)
	STORE0(Y4, Y5)
	STORE0(Y6, Y7)
	STORE0(Y8, Y9)
	STORE0(Y10, Y11)
	VZEROUPPER
	RET

storebeta:
	VBROADCASTSS beta+44(FP), Y15
	STOREB(Y0, Y1)
	STOREB(Y2, Y3)
	STOREB(Y4, Y5)
	STOREB(Y6, Y7)
	STOREB(Y8, Y9)
	STOREB(Y10, Y11)
	VZEROUPPER
	RET

// func transpose8AVX2(src *float32, lds int, rows int, blocks int, dst *float32, ldd int)
//
// For each of `blocks` blocks of 8 columns of the rows×8 submatrix at src
// (row stride lds elements; rows is 6 or 8, missing rows read as zero),
// stores column q of the block as 8 consecutive floats at dst + q*ldd. The
// block b starts at src + 8*b and dst + 8*b*ldd. With ldd < 8 the stores
// overlap: each one spills 8-ldd floats past its column, which the next
// column (or the caller) overwrites.
//
// Rows r and r+4 share a YMM register (low and high lane), so the transpose
// needs only in-lane shuffles.
TEXT ·transpose8AVX2(SB), NOSPLIT, $0-48
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9      // 3*lds bytes
	LEAQ (SI)(R8*4), R10     // row 4
	MOVQ rows+16(FP), R11
	MOVQ blocks+24(FP), CX
	MOVQ dst+32(FP), DI
	MOVQ ldd+40(FP), DX
	SHLQ $2, DX
	LEAQ (DX)(DX*2), R12     // 3*ldd bytes
	TESTQ CX, CX
	JZ   done

loop:
	VMOVUPS     (SI), X0
	VINSERTF128 $1, (R10), Y0, Y0
	VMOVUPS     (SI)(R8*1), X1
	VINSERTF128 $1, (R10)(R8*1), Y1, Y1
	VMOVUPS     (SI)(R8*2), X2
	VMOVUPS     (SI)(R9*1), X3
	VMOVUPS     16(SI), X4
	VINSERTF128 $1, 16(R10), Y4, Y4
	VMOVUPS     16(SI)(R8*1), X5
	VINSERTF128 $1, 16(R10)(R8*1), Y5, Y5
	VMOVUPS     16(SI)(R8*2), X6
	VMOVUPS     16(SI)(R9*1), X7
	CMPQ        R11, $8
	JNE         transpose
	VINSERTF128 $1, (R10)(R8*2), Y2, Y2
	VINSERTF128 $1, (R10)(R9*1), Y3, Y3
	VINSERTF128 $1, 16(R10)(R8*2), Y6, Y6
	VINSERTF128 $1, 16(R10)(R9*1), Y7, Y7

transpose:
	// Rows 6 and 7 (high lanes of Y2, Y3, Y6, Y7) are zero when rows == 6:
	// VEX-encoded 128-bit loads clear the upper lane.
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7

	// Columns 0..3 at DI, 4..7 at DI + 4*ldd, in ascending order.
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, (DI)(DX*1)
	VMOVUPS Y2, (DI)(DX*2)
	VMOVUPS Y3, (DI)(R12*1)
	LEAQ    (DI)(DX*4), DI
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, (DI)(DX*1)
	VMOVUPS Y6, (DI)(DX*2)
	VMOVUPS Y7, (DI)(R12*1)
	LEAQ    (DI)(DX*4), DI

	ADDQ $32, SI
	ADDQ $32, R10
	DECQ CX
	JNZ  loop

done:
	VZEROUPPER
	RET

// func packRows6AVX2(kc int, src *float32, lds int, npan int, dst *float32, pstride int)
//
// For p in [0, kc) and q in [0, npan): copies the 6 floats at
// src + p*lds + 6*q to dst + q*pstride + 6*p. Source rows are read
// sequentially.
TEXT ·packRows6AVX2(SB), NOSPLIT, $0-48
	MOVQ kc+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ lds+16(FP), R8
	SHLQ $2, R8
	MOVQ npan+24(FP), R9
	MOVQ dst+32(FP), DI
	MOVQ pstride+40(FP), R10
	SHLQ $2, R10
	TESTQ CX, CX
	JZ   done6
	TESTQ R9, R9
	JZ   done6

row6:
	MOVQ SI, R11
	MOVQ DI, R12
	MOVQ R9, BX

pan6:
	MOVUPS (R11), X0
	MOVSD  16(R11), X1
	MOVUPS X0, (R12)
	MOVSD  X1, 16(R12)
	ADDQ $24, R11
	ADDQ R10, R12
	DECQ BX
	JNZ  pan6

	ADDQ R8, SI
	ADDQ $24, DI
	DECQ CX
	JNZ  row6

done6:
	RET

// func packRows8AVX2(kc int, src *float32, lds int, npan int, dst *float32, pstride int)
//
// For p in [0, kc) and q in [0, npan): copies the 8 floats at
// src + p*lds + 8*q to dst + q*pstride + 8*p. Source rows are read
// sequentially.
TEXT ·packRows8AVX2(SB), NOSPLIT, $0-48
	MOVQ kc+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ lds+16(FP), R8
	SHLQ $2, R8
	MOVQ npan+24(FP), R9
	MOVQ dst+32(FP), DI
	MOVQ pstride+40(FP), R10
	SHLQ $2, R10
	TESTQ CX, CX
	JZ   done8
	TESTQ R9, R9
	JZ   done8

row8:
	MOVQ SI, R11
	MOVQ DI, R12
	MOVQ R9, BX

pan8:
	VMOVUPS (R11), Y0
	VMOVUPS Y0, (R12)
	ADDQ $32, R11
	ADDQ R10, R12
	DECQ BX
	JNZ  pan8

	ADDQ R8, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  row8

done8:
	VZEROUPPER
	RET

// func packRows16AVX2(kc int, src *float32, lds int, npan int, dst *float32, pstride int)
//
// For p in [0, kc) and q in [0, npan): copies the 16 floats at
// src + p*lds + 16*q to dst + q*pstride + 16*p. Source rows are read
// sequentially.
TEXT ·packRows16AVX2(SB), NOSPLIT, $0-48
	MOVQ kc+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ lds+16(FP), R8
	SHLQ $2, R8
	MOVQ npan+24(FP), R9
	MOVQ dst+32(FP), DI
	MOVQ pstride+40(FP), R10
	SHLQ $2, R10
	TESTQ CX, CX
	JZ   done16
	TESTQ R9, R9
	JZ   done16

row16:
	MOVQ SI, R11
	MOVQ DI, R12
	MOVQ R9, BX

pan16:
	VMOVUPS (R11), Y0
	VMOVUPS 32(R11), Y1
	VMOVUPS Y0, (R12)
	VMOVUPS Y1, 32(R12)
	ADDQ $64, R11
	ADDQ R10, R12
	DECQ BX
	JNZ  pan16

	ADDQ R8, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  row16

done16:
	VZEROUPPER
	RET

// func packRows32AVX2(kc int, src *float32, lds int, npan int, dst *float32, pstride int)
//
// For p in [0, kc) and q in [0, npan): copies the 32 floats at
// src + p*lds + 32*q to dst + q*pstride + 32*p. Source rows are read
// sequentially.
TEXT ·packRows32AVX2(SB), NOSPLIT, $0-48
	MOVQ kc+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ lds+16(FP), R8
	SHLQ $2, R8
	MOVQ npan+24(FP), R9
	MOVQ dst+32(FP), DI
	MOVQ pstride+40(FP), R10
	SHLQ $2, R10
	TESTQ CX, CX
	JZ   done32
	TESTQ R9, R9
	JZ   done32

row32:
	MOVQ SI, R11
	MOVQ DI, R12
	MOVQ R9, BX

pan32:
	VMOVUPS (R11), Y0
	VMOVUPS 32(R11), Y1
	VMOVUPS 64(R11), Y2
	VMOVUPS 96(R11), Y3
	VMOVUPS Y0, (R12)
	VMOVUPS Y1, 32(R12)
	VMOVUPS Y2, 64(R12)
	VMOVUPS Y3, 96(R12)
	ADDQ $128, R11
	ADDQ R10, R12
	DECQ BX
	JNZ  pan32

	ADDQ R8, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  row32

done32:
	VZEROUPPER
	RET
