package org.modnet.xdp;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.XdpHook;
import org.modnet.ebpf.api.BpfAdoption;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfHandOver;
import org.modnet.ebpf.api.BpfProg;
import org.modnet.ebpf.api.BpfRebind;
import org.modnet.ebpf.api.BpfSyscall;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the devices' XDP hooks and the bpf file system do when the eBPF implementation goes away.
 * <p>
 * On an update of the ebpf bundle ({@link BpfSyscall#handingOver()}) the old implementation's maps
 * and programs are handed to the next one: the old programs go on running on the devices until the
 * new implementation adopts them under the same ids, then each device's hook is replaced by one
 * running the adopted program in a single {@code setXdp} (no moment without XDP), and the pins of
 * {@code /sys/fs/bpf} name the adopted objects. Both versions' programs share the maps' storage, so
 * nothing counted during the swap is lost. A program the new verifier refuses comes off its device
 * (logged and counted in {@code XdpHandOverRefused}). This bundle carries the hand-over because it
 * holds both versions' services and outlives the update; the ebpf bundle then needs nothing of the
 * network core, and the maps' storage (live memory, not values) does not fit the core's
 * {@code StateHolder} deposits.
 * <p>
 * On a stop of the ebpf bundle (not an update) the programs come off every device's hook, as after
 * {@code ip link set DEV xdp off} (the count is logged once), and {@code /sys/fs/bpf} is emptied, so
 * no device keeps running code of a bundle revision that a refresh will close. Programs of other
 * implementations, and non-eBPF hooks, stay.
 */
@Component(immediate = true)
public final class XdpDetach {
    private static final Logger LOG = LoggerFactory.getLogger(XdpDetach.class);

    private final NetCore core;
    private final BpfFs fs;
    /** The leaving implementation and what it handed over, until the next one adopts it. */
    private BpfSyscall leaving;
    private BpfHandOver waiting;
    private volatile boolean closing;
    private final Map<String, AtomicLong> counters = new ConcurrentSkipListMap<>();
    /** Other users of programs (tc's bpf classifier), moved to the adopted programs with XDP's hooks. */
    private final java.util.List<BpfRebind> users = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Activate
    public XdpDetach(@Reference NetCore core, @Reference BpfFs fs) {
        this.core = core;
        this.fs = fs;
        for (String c : new String[] { "XdpHandOvers", "XdpHandOverProgs", "XdpHandOverMaps", "XdpHandOverMapsCopied",
                "XdpHandOverRefused", "XdpDetached", "BpfHandOverRebound" }) {
            counters.put(c, new AtomicLong());
        }
    }

    /** The hand-over's counters by name (the programs and maps adopted, copied, refused; the programs detached). */
    public Map<String, Long> counters() {
        Map<String, Long> m = new java.util.TreeMap<>();
        counters.forEach((k, v) -> m.put(k, v.get()));
        return m;
    }

    private void count(String name, long n) {
        counters.get(name).addAndGet(n);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    synchronized void bindBpf(BpfSyscall bpf) {
        if (waiting != null) {
            adopt(bpf);
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addUser(BpfRebind user) {
        users.add(user);
    }

    void removeUser(BpfRebind user) {
        users.remove(user);
    }

    synchronized void unbindBpf(BpfSyscall bpf) {
        if (closing) {
            return;
        }
        if (bpf.handingOver()) {
            try {
                waiting = bpf.handOver();
                leaving = bpf;
                LOG.info("xdp: the eBPF implementation is being updated: {} programs and {} maps wait for the next one, still running",
                        waiting.progs().size(), waiting.maps().size());
                return;
            } catch (RuntimeException e) {
                LOG.warn("xdp: the eBPF implementation could not hand its state over ({}): its programs are detached", e.toString());
            }
        }
        detachAll(bpf, "org.modnet.ebpf stopped");
    }

    /** Takes {@code bpf}'s programs off every device and empties the bpf file system. */
    private void detachAll(BpfSyscall bpf, String why) {
        int n;
        try {
            n = detach(core, bpf);
        } catch (RuntimeException e) {
            LOG.warn("XDP programs could not be detached from the devices: {}", e.toString()); // the core is going too
            n = 0;
        }
        fs.clear();
        count("XdpDetached", n);
        if (n > 0) {
            LOG.warn("{} XDP program{} detached: the eBPF implementation that loaded {} went away ({}); attach {} again", n,
                    n == 1 ? "" : "s", n == 1 ? "it" : "them", why, n == 1 ? "it" : "them");
        }
    }

    /** The new implementation adopts what the old one handed over; each device's hook is swapped in one step. */
    private void adopt(BpfSyscall next) {
        BpfHandOver state = waiting;
        BpfSyscall old = leaving;
        waiting = null;
        leaving = null;
        BpfAdoption a;
        try {
            a = next.adopt(state);
        } catch (BpfException | RuntimeException e) {
            LOG.warn("xdp: the new eBPF implementation refused the hand-over ({}): the old programs are detached", e.getMessage());
            detachAll(old, "the new version could not adopt them");
            return;
        }
        int swapped = 0;
        int refused = 0;
        for (NetNamespace ns : core.namespaces()) {
            for (NetDevice d : ns.devices()) {
                XdpHook h = d.xdp();
                if (!(h instanceof EbpfXdpHook e) || e.bpf() != old) {
                    continue;
                }
                BpfProg p = a.prog(e.id());
                XdpHook replacement = p == null ? null : new EbpfXdpHook(next, p.hold());
                try {
                    d.setXdp(replacement, d.xdpNative()); // the old program runs until this replaces it
                } catch (NetException ex) {
                    LOG.warn("xdp: program {} on {} could not be replaced: {}", e.id(), d.name(), ex.getMessage());
                    if (replacement != null) {
                        replacement.close();
                    }
                    continue;
                }
                e.close();
                if (p == null) {
                    refused++;
                    LOG.warn("xdp: program {} ({}) on {} detached: the new eBPF implementation refused it: {}", e.id(),
                            e.program().name(), d.name(), a.refused().getOrDefault(e.id(), "not handed over"));
                } else {
                    swapped++;
                }
            }
        }
        fs.adopt(a);
        int rebound = 0;
        for (BpfRebind u : users) { // before the adopter's references go, or a program only they run would unload
            try {
                rebound += u.rebind(old, next, a);
            } catch (RuntimeException ex) {
                LOG.warn("xdp: a user of eBPF programs could not move to the new implementation: {}", ex.toString());
            }
        }
        count("BpfHandOverRebound", rebound);
        a.progs().forEach(BpfProg::close); // the adopter's reference: hooks, pins and users hold their own
        a.refused().forEach((id, why) -> LOG.warn("xdp: program {} not adopted by the new eBPF implementation: {}", id, why));
        count("XdpHandOvers", 1);
        count("XdpHandOverProgs", a.progs().size());
        count("XdpHandOverMaps", a.maps().size());
        count("XdpHandOverMapsCopied", a.mapsCopied());
        count("XdpHandOverRefused", a.refused().size());
        count("XdpDetached", refused);
        LOG.info("xdp: {} programs ({} attached) and {} maps handed over to the new eBPF implementation under the same ids;"
                + " {} maps copied, {} programs refused", a.progs().size(), swapped, a.maps().size(), a.mapsCopied(), a.refused().size());
    }

    @Deactivate
    synchronized void deactivate() {
        closing = true;
        BpfSyscall old = leaving;
        if (old != null) { // the xdp bundle goes while a hand-over waits: nobody will adopt
            waiting = null;
            leaving = null;
            detachAll(old, "the xdp bundle stopped during an update of org.modnet.ebpf");
        }
        for (NetNamespace ns : namespaces()) {
            for (NetDevice d : ns.devices()) {
                if (d.xdp() instanceof EbpfXdpHook e) {
                    detachOne(d, e);
                }
            }
        }
    }

    private Iterable<NetNamespace> namespaces() {
        try {
            return core.namespaces();
        } catch (RuntimeException e) {
            return java.util.List.of(); // the core is going too
        }
    }

    /** Detaches, from every device of every namespace, the eBPF hooks whose programs {@code bpf} loaded; how many. */
    static int detach(NetCore core, BpfSyscall bpf) {
        int n = 0;
        for (NetNamespace ns : core.namespaces()) {
            for (NetDevice d : ns.devices()) {
                XdpHook h = d.xdp();
                if (h instanceof EbpfXdpHook e && e.bpf() == bpf && detachOne(d, e)) {
                    n++;
                }
            }
        }
        return n;
    }

    private static boolean detachOne(NetDevice d, EbpfXdpHook e) {
        try {
            d.setXdp(null);
        } catch (NetException ex) {
            LOG.warn("XDP program {} on {} could not be detached: {}", e.id(), d.name(), ex.getMessage());
            return false;
        }
        e.close();
        return true;
    }
}
