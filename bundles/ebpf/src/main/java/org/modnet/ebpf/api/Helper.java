package org.modnet.ebpf.api;

/** A helper function a program calls by number ({@code call N}): arguments in r1–r5, result in r0. */
@FunctionalInterface
public interface Helper {
    long call(long r1, long r2, long r3, long r4, long r5, Memory memory);
}
