package org.modnet.ebpf.api;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A loaded program ({@code struct bpf_prog}): verified for its type against its maps and compiled.
 * The loader holds the first reference; a pin or a device's hook takes its own with {@link #hold()}
 * and gives it back with {@link #close()}; with the last one the program is unloaded.
 */
@ProviderType
public interface BpfProg extends AutoCloseable {
    /** The program's id: what {@code bpftool} shows, a prog array holds, a devmap entry names. */
    int id();

    String name();

    ProgType type();

    /** Where the program expects to be attached. */
    AttachType attachType();

    /** The instructions as they run (context loads and map references rewritten): {@code bpftool prog dump xlated}. */
    long[] xlated();

    /** Whether the JIT compiled it (else it is interpreted). */
    boolean jited();

    /** The maps the program uses, in the order its map references index them. */
    List<BpfMap> maps();

    /** The verifier's log (empty unless asked for at load). */
    String log();

    /** Instructions the verifier processed. */
    int verifiedInsns();

    /** Another holder keeps the program loaded; throws IllegalStateException when it is already unloaded. */
    BpfProg hold();

    /** A holder lets go. */
    @Override
    void close();

    /** Still loaded: some holder has not closed it. */
    boolean loaded();

    /** A fresh XDP context for runs on {@code cpu} (its stack, its values of per-CPU maps). */
    XdpContext xdpContext(int cpu);

    /** A fresh tc context ({@link ProgType#SCHED_CLS}) for runs on {@code cpu}, or on one thread. */
    default TcContext tcContext(int cpu) {
        throw new UnsupportedOperationException("not a tc program");
    }

    /** A fresh socket filter context ({@link ProgType#SOCKET_FILTER}) for runs on {@code cpu}, or on one thread. @since 2.3 */
    default SkFilterContext skFilterContext(int cpu) {
        throw new UnsupportedOperationException("not a socket filter");
    }
}
