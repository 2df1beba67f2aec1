package org.modnet.ebpf.api;

/**
 * Where a program expects to be attached ({@code bpf_attr.expected_attach_type}), where that changes
 * what it may do: an XDP program for a devmap entry reads {@code egress_ifindex} and runs on frames
 * redirected through the entry, and no XDP program of this kind attaches to a device's hook.
 */
public enum AttachType {
    /** Attached where its type attaches: an XDP program at a device's receive hook. */
    DEFAULT,
    /** {@code BPF_XDP_DEVMAP}: runs on each frame redirected through a devmap entry, before it leaves the entry's device. */
    XDP_DEVMAP,
    /** {@code BPF_XDP_CPUMAP}: runs on each frame redirected through a cpumap entry, on that CPU. */
    XDP_CPUMAP;

    /** The attach type libbpf gives a program of this ELF section: {@code xdp/devmap}, {@code xdp/cpumap} (and their {@code xdp.frags/} forms). */
    public static AttachType ofSection(String section) {
        return switch (section) {
            case "xdp/devmap", "xdp.frags/devmap" -> XDP_DEVMAP;
            case "xdp/cpumap", "xdp.frags/cpumap" -> XDP_CPUMAP;
            default -> DEFAULT;
        };
    }
}
