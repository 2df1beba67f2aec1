package org.modnet.drivers.veth;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.Errno;
import org.modnet.api.module.ModuleUsage;
import org.modnet.api.net.LinkFactory;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * {@code drivers/net/veth.c}: {@code ip link add NAME type veth peer name PEER} makes a pair of
 * Ethernet devices; what one end sends, the other receives. Either end may move to another namespace,
 * which is how namespaces are joined. Stopping this bundle removes every pair, as unloading the module
 * does.
 */
@Component(service = { LinkFactory.class, ModuleUsage.class }, immediate = true, property = LinkFactory.KIND + "=veth")
public final class VethDriver implements LinkFactory, ModuleUsage {
    static final Map<String, Boolean> FEATURES = Map.of("rx-checksumming", true, "tx-checksumming", true,
            "scatter-gather", true, "tcp-segmentation-offload", true, "generic-segmentation-offload", true,
            "generic-receive-offload", false, "rx-vlan-offload", true, "tx-vlan-offload", true, "tx-udp-segmentation", true);
    static final Set<String> FIXED = Set.of();
    /** The most queues an end may have ({@code numtxqueues}, {@code numrxqueues}). */
    static final int MAX_QUEUES = 16;

    private final Set<VethEnd> ends = ConcurrentHashMap.newKeySet();

    @Override
    public NetDevice create(NetNamespace ns, String name, List<String> args) throws NetException {
        Peer peer = peer(args);
        String peerName = peer.name();
        if (peerName == null) {
            peerName = freeName(ns);
        }
        if (peerName.equals(name)) {
            throw new NetException(Errno.EEXIST);
        }
        VethEnd a = new VethEnd(ends, MAX_QUEUES);
        VethEnd b = new VethEnd(ends, MAX_QUEUES);
        a.pair(b);
        NetDevice devA = ns.register(setup(name), a);
        a.attach(devA);
        try {
            NetDevice devB = ns.register(setup(peerName), b);
            b.attach(devB);
            if (peer.numTxQueues() != null) {
                devB.setTxQueues(peer.numTxQueues());
            }
            if (peer.numRxQueues() != null) {
                devB.setRxQueues(peer.numRxQueues());
            }
        } catch (NetException e) {
            ns.unregister(devA);
            throw e;
        }
        ends.add(a);
        ends.add(b);
        return devA;
    }

    private static DeviceSetup setup(String name) {
        // veth has no queue of its own (IFF_NO_QUEUE): the peer's receive ring is its ring
        return DeviceSetup.ether(name, "veth").withQdisc("noqueue").withQueues(1, MAX_QUEUES).withFeatures(FEATURES, FIXED)
                .withRings(256, 4096, 0, 0);
    }

    /**
     * The peer's part: {@code peer [name] NAME [numtxqueues N] [numrxqueues N]}, the nested link
     * request iproute2 sends for the peer (its queues are the peer's own, as Linux's
     * {@code veth_newlink} creates the peer from them). Null name: none given.
     */
    record Peer(String name, Integer numTxQueues, Integer numRxQueues) {
    }

    static Peer peer(List<String> args) throws NetException {
        if (args.isEmpty()) {
            return new Peer(null, null, null);
        }
        if (!args.get(0).equals("peer")) {
            throw new NetException(Errno.EINVAL, "veth: unknown argument \"" + args.get(0) + "\"");
        }
        String name = null;
        Integer tx = null;
        Integer rx = null;
        for (int i = 1; i < args.size(); i++) {
            String w = args.get(i);
            if ((w.equals("numtxqueues") || w.equals("numrxqueues")) && i + 1 < args.size()) {
                int n;
                try {
                    n = Integer.parseInt(args.get(++i));
                } catch (NumberFormatException e) {
                    throw new NetException(Errno.EINVAL, "Invalid \"" + w + "\" value: \"" + args.get(i) + "\"");
                }
                if (w.equals("numtxqueues")) {
                    tx = n;
                } else {
                    rx = n;
                }
            } else if (w.equals("name") && i + 1 < args.size() && name == null) {
                name = args.get(++i);
            } else if (name == null && !w.equals("name")) {
                name = w;
            } else {
                throw new NetException(Errno.EINVAL, "veth: expected \"peer name NAME\"");
            }
        }
        if (name == null && tx == null && rx == null) {
            throw new NetException(Errno.EINVAL, "veth: expected \"peer name NAME\"");
        }
        return new Peer(name, tx, rx);
    }

    /** {@code peer name NAME} or {@code peer NAME}; null when no peer is named. */
    static String peerName(List<String> args) throws NetException {
        return peer(args).name();
    }

    private static String freeName(NetNamespace ns) {
        for (int i = 0;; i++) {
            if (ns.device("veth" + i) == null) {
                return "veth" + i;
            }
        }
    }

    /** The module goes: every pair goes with it. */
    @Deactivate
    void deactivate() {
        for (VethEnd end : ends.toArray(new VethEnd[0])) {
            end.unregister();
        }
    }

    /** The devices this driver made and that are still registered: lsmod's users, rmmod's refusal. */
    @Override
    public Map<String, Integer> users() {
        return Map.of(DEVICES, ends.size());
    }
}
