package org.modnet.ebpf.api;

/**
 * The eBPF instruction set (RFC 9669, {@code include/uapi/linux/bpf.h}): an instruction is 64 bits,
 * little-endian — opcode (8), destination register (4), source register (4), offset (16, signed),
 * immediate (32, signed) — held here as a {@code long} whose low byte is the opcode.
 */
public final class Bpf {
    private Bpf() {
    }

    // classes
    public static final int LD = 0x00;
    public static final int LDX = 0x01;
    public static final int ST = 0x02;
    public static final int STX = 0x03;
    public static final int ALU = 0x04;
    public static final int JMP = 0x05;
    public static final int JMP32 = 0x06;
    public static final int ALU64 = 0x07;

    // source
    public static final int K = 0x00;
    public static final int X = 0x08;

    // ALU operations
    public static final int ADD = 0x00;
    public static final int SUB = 0x10;
    public static final int MUL = 0x20;
    public static final int DIV = 0x30;
    public static final int OR = 0x40;
    public static final int AND = 0x50;
    public static final int LSH = 0x60;
    public static final int RSH = 0x70;
    public static final int NEG = 0x80;
    public static final int MOD = 0x90;
    public static final int XOR = 0xa0;
    public static final int MOV = 0xb0;
    public static final int ARSH = 0xc0;
    public static final int END = 0xd0;

    // jump operations
    public static final int JA = 0x00;
    public static final int JEQ = 0x10;
    public static final int JGT = 0x20;
    public static final int JGE = 0x30;
    public static final int JSET = 0x40;
    public static final int JNE = 0x50;
    public static final int JSGT = 0x60;
    public static final int JSGE = 0x70;
    public static final int CALL = 0x80;
    public static final int EXIT = 0x90;
    public static final int JLT = 0xa0;
    public static final int JLE = 0xb0;
    public static final int JSLT = 0xc0;
    public static final int JSLE = 0xd0;

    // load and store sizes and modes
    public static final int W = 0x00;
    public static final int H = 0x08;
    public static final int B = 0x10;
    public static final int DW = 0x18;
    public static final int IMM = 0x00;
    public static final int ABS = 0x20;
    public static final int IND = 0x40;
    public static final int MEM = 0x60;
    public static final int MEMSX = 0x80;
    public static final int ATOMIC = 0xc0;

    // atomic operations (in imm)
    public static final int FETCH = 0x01;
    public static final int XCHG = 0xe0 | FETCH;
    public static final int CMPXCHG = 0xf0 | FETCH;

    // lddw source values
    public static final int PSEUDO_MAP_FD = 1;
    public static final int PSEUDO_MAP_VALUE = 2;
    /** Call source values: a helper by number, a bpf-to-bpf call by relative offset. */
    public static final int PSEUDO_CALL = 1;

    /** The stack of one frame, {@code MAX_BPF_STACK}. */
    public static final int STACK_SIZE = 512;
    /** Frames of bpf-to-bpf calls, {@code MAX_CALL_FRAMES}. */
    public static final int MAX_FRAMES = 8;

    public static int opcode(long insn) {
        return (int) insn & 0xff;
    }

    public static int dst(long insn) {
        return (int) (insn >>> 8) & 0xf;
    }

    public static int src(long insn) {
        return (int) (insn >>> 12) & 0xf;
    }

    public static short off(long insn) {
        return (short) (insn >>> 16);
    }

    public static int imm(long insn) {
        return (int) (insn >>> 32);
    }

    public static int cls(int opcode) {
        return opcode & 0x07;
    }

    public static long encode(int opcode, int dst, int src, int off, int imm) {
        return (opcode & 0xffL) | (dst & 0xfL) << 8 | (src & 0xfL) << 12 | (off & 0xffffL) << 16 | (imm & 0xffffffffL) << 32;
    }

    /** The size in bytes of a load or store's size field. */
    public static int bytes(int opcode) {
        return switch (opcode & 0x18) {
            case W -> 4;
            case H -> 2;
            case B -> 1;
            default -> 8;
        };
    }
}
