package org.modnet.xdp;

import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.XdpHook;
import org.modnet.ebpf.api.BpfSyscall;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes eBPF programs off the devices' XDP hooks when the implementation that loaded them goes away
 * (the ebpf bundle stopped or updated), so no device keeps running code of a bundle revision that a
 * refresh will close. The devices then receive without XDP, as after {@code ip link set DEV xdp off};
 * the count is logged once per departure, and a user attaches the programs again (loading them with
 * the new implementation). Programs of other implementations, and non-eBPF hooks, stay.
 */
@Component(immediate = true)
public final class XdpDetach {
    private static final Logger LOG = LoggerFactory.getLogger(XdpDetach.class);

    private final NetCore core;
    private final BpfSyscall bpf;

    @Activate
    public XdpDetach(@Reference NetCore core, @Reference BpfSyscall bpf) {
        this.core = core;
        this.bpf = bpf;
    }

    @Deactivate
    void deactivate() {
        int n;
        try {
            n = detach(core, bpf);
        } catch (RuntimeException e) {
            LOG.warn("XDP programs could not be detached from the devices: {}", e.toString()); // the core is going too
            return;
        }
        if (n > 0) {
            LOG.warn("{} XDP program{} detached: the eBPF implementation that loaded {} went away (org.modnet.ebpf stopped or updated);"
                    + " attach {} again", n, n == 1 ? "" : "s", n == 1 ? "it" : "them", n == 1 ? "it" : "them");
        }
    }

    /** Detaches, from every device of every namespace, the eBPF hooks whose programs {@code bpf} loaded; how many. */
    static int detach(NetCore core, BpfSyscall bpf) {
        int n = 0;
        for (NetNamespace ns : core.namespaces()) {
            for (NetDevice d : ns.devices()) {
                XdpHook h = d.xdp();
                if (h instanceof EbpfXdpHook e && e.bpf() == bpf) {
                    try {
                        d.setXdp(null);
                    } catch (NetException ex) {
                        LOG.warn("XDP program {} on {} could not be detached: {}", e.id(), d.name(), ex.getMessage());
                        continue;
                    }
                    e.close();
                    n++;
                }
            }
        }
        return n;
    }
}
