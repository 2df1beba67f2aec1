package org.modnet.ebpf.api;

import org.osgi.annotation.versioning.ConsumerType;

/** A helper function a program calls by number ({@code call N}): arguments in r1–r5, result in r0. */
@ConsumerType
@FunctionalInterface
public interface Helper {
    /** May throw {@link BpfFault} for an argument outside the program's memory. */
    long call(long r1, long r2, long r3, long r4, long r5, BpfMemory memory);
}
