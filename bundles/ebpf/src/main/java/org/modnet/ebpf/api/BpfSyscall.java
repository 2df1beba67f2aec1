package org.modnet.ebpf.api;

import java.util.List;
import java.util.function.Consumer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The eBPF implementation as its users reach it, in the role of the {@code bpf(2)} system call:
 * {@code BPF_MAP_CREATE}, {@code BPF_PROG_LOAD} (verify, then compile), the loaded programs and maps by
 * id ({@code BPF_PROG_GET_NEXT_ID}, {@code BPF_MAP_GET_NEXT_ID}), plus what libbpf and bpftool add:
 * opening an ELF object, the ubpf-syntax assembler and the disassembler. The ebpf bundle registers it;
 * users hold it as a service and hold the programs and maps it gives them, so a run costs an interface
 * call and no lookup. Programs and maps belong to the implementation that made them: on a stop they
 * stop being listed and a user must let go of them; on an update the next implementation adopts them
 * under the same ids ({@link #handOver()}, {@link #adopt}) and a user moves to the adopted ones.
 */
@ProviderType
public interface BpfSyscall {
    /** The engines, as {@link #progLoad} names them. */
    String JIT = "jit";
    String INTERPRETER = "interpreter";

    /** {@code BPF_MAP_CREATE}: a map of a {@code BPF_MAP_TYPE_*} with {@code cpus} values per key for the per-CPU types. */
    BpfMap mapCreate(String name, int type, int keySize, int valueSize, int maxEntries, int flags, int cpus) throws BpfException;

    /** Reads an ELF object ({@code bpf_object__open_mem}); throws what is wrong with it. Loads nothing. */
    /**
     * {@code BPF_MAP_CREATE} of an array or hash of maps ({@link BpfMap#MAP_ARRAY_OF_MAPS},
     * {@link BpfMap#MAP_HASH_OF_MAPS}) whose values are maps shaped as {@code inner} (its
     * {@code inner_map_fd}); 4-byte values, each an inner map's id. Since 2.6.
     */
    default BpfMap mapCreate(String name, int type, int keySize, int valueSize, int maxEntries, int flags, BpfMap inner) throws BpfException {
        throw new BpfException("map " + name + ": maps of maps are not supported by this implementation");
    }

    BpfObject objOpen(byte[] elf) throws BpfException;

    /**
     * {@code BPF_PROG_LOAD}: verifies {@code insns} for {@code type} (and {@code attach}) against
     * {@code maps} (which their {@code lddw} map references index, made by this implementation), then
     * compiles them with the JIT. A program gets the helpers of its type (for XDP: the maps, ring
     * buffers, adjust head/tail/meta, redirect...) and {@code extra} ones the runtime adds (may be
     * null); {@code bpf_trace_printk} writes to {@code tracePipe} (may be null). Throws the
     * verifier's reason, its log attached.
     */
    default BpfProg progLoad(String name, long[] insns, ProgType type, AttachType attach, List<BpfMap> maps, Helpers extra,
            Consumer<String> tracePipe) throws BpfException {
        return progLoad(name, insns, type, attach, maps, extra, tracePipe, JIT, false);
    }

    /** {@link #progLoad} with the engine ({@link #JIT} or {@link #INTERPRETER}) and a verbose verifier log. */
    BpfProg progLoad(String name, long[] insns, ProgType type, AttachType attach, List<BpfMap> maps, Helpers extra,
            Consumer<String> tracePipe, String engine, boolean verbose) throws BpfException;

    /**
     * {@link #progLoad} of a program from an object ({@link #objOpen}), with what its BTF says of its
     * functions (the kernel's {@code func_info}: a subprogram returning no int may not use LD_ABS or
     * tail calls). Every loader of an ELF object should load through this one. Since 2.5.0.
     */
    default BpfProg progLoad(BpfObject.ProgramDef def, ProgType type, AttachType attach, List<BpfMap> maps, Helpers extra,
            Consumer<String> tracePipe, String engine, boolean verbose) throws BpfException {
        return progLoad(def.name(), def.insns(), type, attach, maps, extra, tracePipe, engine, verbose);
    }

    /**
     * A {@link ProgType#RAW} program run on a frame's bytes, checked for what no engine may run but not
     * verified (the caller generated it: {@code tcpdump}'s filter); no helpers. Throws when the engine
     * cannot take it (the JIT, for a program too large for one JVM method).
     */
    SocketFilter socketFilter(String name, long[] insns, String engine) throws BpfException;

    /**
     * A classic BPF program ({@code SO_ATTACH_FILTER}'s {@code struct sock_filter} array; each element
     * a {@code long} holding the C struct's 8 bytes little-endian: code in bits 0-15, jt 16-23, jf
     * 24-31, k 32-63), checked as the kernel's {@code bpf_check_classic} checks it, translated to eBPF
     * as {@code bpf_convert_filter} does and loaded as a {@link ProgType#SOCKET_FILTER}. Throws what is
     * wrong with it: the kernel answers every such refusal with EINVAL. @since 2.3
     */
    default BpfProg progLoadClassic(String name, long[] filter, String engine) throws BpfException {
        throw new BpfException("this bpf implementation has no classic BPF");
    }

    /** Every loaded program, by id. */
    List<BpfProg> progs();

    /** The loaded program of this id, or null. */
    BpfProg prog(int id);

    /** Every map a loaded program uses, by id (pinned maps without a program are the pinner's to list). */
    List<BpfMap> maps();

    /** ubpf-syntax assembly ({@code mov r0, 1 / exit}) to instructions. */
    long[] assemble(String text) throws BpfException;

    /** One line per instruction, as {@code bpftool prog dump xlated} prints it (null for an {@code lddw}'s second half). */
    List<String> disassemble(long[] insns);

    /**
     * The AF_XDP family's sockets, as an xskmap update asks for them ({@code xsk_map_update_elem}'s
     * {@code sockfd_lookup}): {@code open} says whether an fd names an open AF_XDP socket. Until a family
     * says so, no fd does and an update is EBADF. @since 2.7
     */
    default void xskSockets(java.util.function.IntPredicate open) {
    }

    /**
     * True while this implementation is leaving for an update (not a stop): its user hands its maps and
     * programs to the next version ({@link #handOver()}, {@link #adopt}) instead of unloading them.
     * @since 2.1
     */
    default boolean handingOver() {
        return false;
    }

    /**
     * Every map (those of loaded programs and those made and still reachable) and every loaded program,
     * as values the next version adopts. The programs go on running meanwhile.
     * @since 2.1
     */
    default BpfHandOver handOver() {
        throw new UnsupportedOperationException("this bpf implementation cannot hand its state over");
    }

    /**
     * Adopts the previous version's state under the same ids: maps take its storage over (or copy its
     * entries), programs are verified and compiled again; a program this verifier refuses is left out
     * and named with the reason. A version this implementation cannot read adopts nothing (throws).
     * @since 2.1
     */
    default BpfAdoption adopt(BpfHandOver state) throws BpfException {
        throw new BpfException("this bpf implementation cannot adopt state");
    }
}
