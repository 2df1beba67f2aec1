package org.modnet.api.net;

/**
 * Loads an XDP program from an eBPF object file, as {@code ip link set dev DEV xdp obj FILE sec NAME}
 * does: reads the object, creates its maps, verifies the program and compiles it. A service of the
 * XDP layer; the caller attaches the hook with {@link NetDevice#setXdp}.
 */
public interface XdpLoader {
    /**
     * The program of section {@code section} (null: the first program) of the object at {@code file}.
     * NetException with the reason (the file, the object, the verifier's message) when it cannot be.
     */
    XdpHook load(String file, String section) throws NetException;
}
