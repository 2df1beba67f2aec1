package org.modnet.ebpf.impl;

import org.modnet.ebpf.api.BpfMemory;
import org.modnet.ebpf.api.Helper;

/** A helper of this implementation: it reaches the program's {@link Memory} itself, which is what the engines pass. */
@FunctionalInterface
interface OwnHelper extends Helper {
    long run(long r1, long r2, long r3, long r4, long r5, Memory memory);

    @Override
    default long call(long r1, long r2, long r3, long r4, long r5, BpfMemory memory) {
        return run(r1, r2, r3, r4, r5, (Memory) memory);
    }
}
