package org.modnet.ebpf.api;

import java.util.List;

/**
 * A helper's prototype, as the verifier checks calls to it ({@code struct bpf_func_proto}): what each
 * argument must be, and what the result is. Helpers that move or resize the packet
 * ({@code changesPacket}) invalidate every packet pointer the program holds.
 */
public record HelperProto(int id, String name, Ret ret, List<Arg> args, boolean changesPacket) {
    public enum Arg {
        /** Any initialised value. */
        ANYTHING,
        /** A map, as {@code lddw} of a map gives it. */
        CONST_MAP_PTR,
        /** A pointer to key_size readable bytes of the map in the earlier argument (stack or map value). */
        PTR_TO_MAP_KEY,
        /** A pointer to value_size readable bytes for that map. */
        PTR_TO_MAP_VALUE,
        /** The program's context. */
        PTR_TO_CTX,
        /** A pointer to readable memory whose size is the next argument. */
        PTR_TO_MEM,
        /** A pointer to memory the helper fills, which need not be initialised, whose size is the next argument. */
        PTR_TO_UNINIT_MEM,
        /** A map value's worth of memory the helper fills ({@code ARG_PTR_TO_MAP_VALUE | MEM_UNINIT}: pop, peek). @since 2.4 */
        PTR_TO_UNINIT_MAP_VALUE,
        /** A known, positive size for the previous memory argument. */
        CONST_SIZE,
        /** A known size, which may be 0. */
        CONST_SIZE_OR_ZERO,
        /** A constant size to reserve ({@code bpf_ringbuf_reserve}). */
        CONST_ALLOC_SIZE,
        /** A reserved record, at its start: the helper releases it ({@code bpf_ringbuf_submit/discard}). */
        PTR_TO_ALLOC_MEM,
        /**
         * Eight bytes, 8-aligned, the helper writes a number to; need not be initialised
         * ({@code ARG_PTR_TO_LONG}: {@code bpf_strtol}'s result). @since 2.5
         */
        PTR_TO_LONG
    }

    public enum Ret {
        INTEGER,
        VOID,
        /** A pointer to a value of the map argument, or NULL: the program must check it. */
        PTR_TO_MAP_VALUE_OR_NULL,
        /** Reserved memory of the constant size argument, or NULL; acquired: the program must release it. */
        PTR_TO_ALLOC_MEM_OR_NULL
    }

    public HelperProto(int id, String name, Ret ret, Arg... args) {
        this(id, name, ret, List.of(args), false);
    }

    public HelperProto changingPacket() {
        return new HelperProto(id, name, ret, args, true);
    }
}
