package org.modnet.ebpf.impl;

import org.modnet.ebpf.api.BpfFault;

/**
 * A program ready to run, by an engine: {@code run} sets r1..r2, a fresh frame pointer in r10, and
 * returns r0. A memory fault or an unknown helper at run time throws {@link BpfFault}; verified
 * programs have none.
 */
public interface Executable {
    long run(Memory memory, long r1, long r2);

    /**
     * The JIT's code whose {@link Jit.Code#runPlain} runs a verified program with plain context and packet
     * accesses, for runs {@link Jit#plainRun} allows; null where there is none (the interpreter, an
     * unverified program, {@code -Dmodnet.ebpf.jit.checked=true}, a JVM without the plain accessors).
     */
    default Jit.Code plainCode() {
        return null;
    }

    /** "interpreter" or "jit". */
    String engine();
}
