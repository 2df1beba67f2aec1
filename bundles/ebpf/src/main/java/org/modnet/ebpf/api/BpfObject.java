package org.modnet.ebpf.api;

import java.util.Arrays;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * An ELF object file from {@code clang -target bpf}, opened ({@code bpf_object__open}): its programs by
 * section, its maps' definitions and its license. Nothing is loaded yet: {@link #createMaps} makes the
 * maps, {@link BpfSyscall#progLoad} loads a program against them.
 */
@ProviderType
public interface BpfObject {
    /**
     * A map the object defines ({@code .maps}, legacy {@code maps}, or {@code .data}/{@code .rodata}/
     * {@code .bss} as single-entry arrays, whose initial bytes are {@code data}), and its {@code map_extra}
     * (a bloom filter's hash count in its low 4 bits; since 2.5.0).
     */
    record MapDef(String name, int type, int keySize, int valueSize, int maxEntries, int flags, byte[] data, long mapExtra) {
        public MapDef(String name, int type, int keySize, int valueSize, int maxEntries, int flags) {
            this(name, type, keySize, valueSize, maxEntries, flags, null, 0);
        }

        public MapDef(String name, int type, int keySize, int valueSize, int maxEntries, int flags, byte[] data) {
            this(name, type, keySize, valueSize, maxEntries, flags, data, 0);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof MapDef m && name.equals(m.name) && type == m.type && keySize == m.keySize && valueSize == m.valueSize
                    && maxEntries == m.maxEntries && flags == m.flags && Arrays.equals(data, m.data) && mapExtra == m.mapExtra;
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + type;
        }
    }

    /**
     * A program: its section, its function name, its instructions with map references as {@code lddw} of
     * the map's index, and where the subprograms it appended start whose BTF prototype returns no int
     * ({@code func_info}: they may not use LD_ABS/LD_IND or tail calls; empty without BTF).
     */
    record ProgramDef(String section, String name, long[] insns, int[] nonScalarReturns, int[] globalFuncs) {
        public ProgramDef {
            nonScalarReturns = nonScalarReturns == null ? new int[0] : nonScalarReturns.clone();
            globalFuncs = globalFuncs == null ? new int[0] : globalFuncs.clone();
        }

        /** A program with no BTF function information. */
        public ProgramDef(String section, String name, long[] insns) {
            this(section, name, insns, new int[0], new int[0]);
        }

        /** A program with its subprograms' return types and no global functions. */
        public ProgramDef(String section, String name, long[] insns, int[] nonScalarReturns) {
            this(section, name, insns, nonScalarReturns, new int[0]);
        }

        @Override
        public int[] nonScalarReturns() {
            return nonScalarReturns.clone();
        }

        /**
         * The global ({@code BTF_FUNC_GLOBAL}) functions appended to the program, which the verifier checks
         * apart from their callers with their arguments as BTF types them: for each, its first instruction,
         * 1 if it returns no int (else 0), its argument count, and per argument 0 (a number) or 1 (the
         * context). @since 2.7
         */
        @Override
        public int[] globalFuncs() {
            return globalFuncs.clone();
        }
    }

    String license();

    List<MapDef> maps();

    List<ProgramDef> programs();

    /** The program of that section, or null. */
    ProgramDef program(String section);

    /** The object's maps, made for {@code cpus} CPUs, in the order its programs' references index them. */
    List<BpfMap> createMaps(int cpus) throws BpfException;
}
