package org.modnet.ebpf.api;

/**
 * A program refused (by the assembler, the loader or the verifier) or stopped at run time, with the
 * instruction it concerns ({@code -1} when none), in the kernel's style: {@code "5: invalid mem access"}.
 */
public class BpfException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int insn;

    public BpfException(String message) {
        this(-1, message);
    }

    public BpfException(int insn, String message) {
        super(insn < 0 ? message : insn + ": " + message);
        this.insn = insn;
    }

    /** The index of the instruction concerned, or -1. */
    public int insn() {
        return insn;
    }
}
