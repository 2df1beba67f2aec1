package org.modnet.ebpf.impl;

import java.util.List;

import org.modnet.ebpf.api.Helpers;

/**
 * The kernel functions ({@code __ksym} kfuncs) a program may call where modnet serves them: XDP's
 * receive metadata ({@code net/core/xdp.c}'s {@code bpf_xdp_metadata_rx_timestamp},
 * {@code bpf_xdp_metadata_rx_hash} and {@code bpf_xdp_metadata_rx_vlan_tag}). The ELF loader turns a
 * call of one into {@code call} with {@code src_reg = BPF_PSEUDO_KFUNC_CALL} and the kfunc's number
 * here in {@code imm} (the kernel puts the function's vmlinux BTF id there) and refuses any other
 * name in libbpf's words; the verifier checks the arguments; then the call becomes a call of the
 * helper at {@link #HELPER_BASE} + the number, which both engines run as any helper.
 */
final class Kfuncs {
    /** {@code BPF_PSEUDO_KFUNC_CALL}: a call's {@code src_reg} for a kernel function. */
    static final int PSEUDO_KFUNC_CALL = 2;
    /** Where kfuncs sit among the helpers after verification, past every helper number the kernel has. */
    static final int HELPER_BASE = 400;
    /** {@code -ENODATA}: the frame came without that piece of metadata. */
    static final long ENODATA = -61;

    /**
     * A kfunc: its number, name, and the sizes of the memory its arguments after the context point
     * to, which it fills.
     */
    record Kfunc(int id, String name, int... written) {
    }

    static final Kfunc RX_TIMESTAMP = new Kfunc(1, "bpf_xdp_metadata_rx_timestamp", 8);
    static final Kfunc RX_HASH = new Kfunc(2, "bpf_xdp_metadata_rx_hash", 4, 4);
    static final Kfunc RX_VLAN_TAG = new Kfunc(3, "bpf_xdp_metadata_rx_vlan_tag", 2, 2);
    static final List<Kfunc> ALL = List.of(RX_TIMESTAMP, RX_HASH, RX_VLAN_TAG);

    private Kfuncs() {
    }

    /** The kfunc of that name, or null. */
    static Kfunc byName(String name) {
        return ALL.stream().filter(k -> k.name().equals(name)).findFirst().orElse(null);
    }

    /** The kfunc of that number, or null. */
    static Kfunc byId(int id) {
        return ALL.stream().filter(k -> k.id() == id).findFirst().orElse(null);
    }

    /** libbpf's refusal of an extern function no kernel (here: modnet) has. */
    static String notFound(String name) {
        return "extern (func ksym) '" + name + "': not found in kernel or module BTFs";
    }

    /** Registers the kfuncs XDP serves ({@link XdpBuffer}'s receive metadata) among {@code h}. */
    static void registerXdp(Helpers h) {
        h.register(HELPER_BASE + RX_TIMESTAMP.id(), RX_TIMESTAMP.name(),
                (OwnHelper) (r1, r2, r3, r4, r5, m) -> XdpBuffer.of(m).rxTimestamp(m, r2));
        h.register(HELPER_BASE + RX_HASH.id(), RX_HASH.name(), (OwnHelper) (r1, r2, r3, r4, r5, m) -> XdpBuffer.of(m).rxHash(m, r2, r3));
        h.register(HELPER_BASE + RX_VLAN_TAG.id(), RX_VLAN_TAG.name(),
                (OwnHelper) (r1, r2, r3, r4, r5, m) -> XdpBuffer.of(m).rxVlanTag(m, r2, r3));
    }
}
