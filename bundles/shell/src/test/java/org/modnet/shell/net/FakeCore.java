package org.modnet.shell.net;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.modnet.api.net.Errno;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.SoftnetStat;
import org.modnet.api.net.Timer;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/** An in-memory core: namespaces by name (init_net first), each made with its loopback. */
final class FakeCore implements NetCore {
    final Map<String, FakeNamespace> namespaces = new LinkedHashMap<>();
    final List<SoftnetStat> softnet = new ArrayList<>();

    FakeCore() {
        create("init_net");
    }

    private FakeNamespace create(String name) {
        FakeNamespace ns = new FakeNamespace(name, this);
        FakeDevice lo = ns.add(FakeDevice.loopback());
        lo.open();
        namespaces.put(name, ns);
        return ns;
    }

    FakeNamespace ns(String name) {
        return namespaces.get(name);
    }

    /** A veth pair, down, as {@code ip link add A type veth peer name B} leaves it. */
    static FakeDevice[] vethPair(FakeNamespace ns, String a, String b) {
        FakeDevice da = ns.add(FakeDevice.ether(a, "veth", "02:00:00:00:00:0a"));
        FakeDevice db = ns.add(FakeDevice.ether(b, "veth", "02:00:00:00:00:0b"));
        da.peer = db;
        db.peer = da;
        return new FakeDevice[] { da, db };
    }

    @Override
    public NetNamespace initNet() {
        return namespaces.get("init_net");
    }

    @Override
    public NetNamespace namespace(String name) {
        return namespaces.get(name);
    }

    @Override
    public List<NetNamespace> namespaces() {
        return List.copyOf(namespaces.values());
    }

    @Override
    public NetNamespace addNamespace(String name) throws NetException {
        if (namespaces.containsKey(name)) {
            throw new NetException(Errno.EEXIST);
        }
        return create(name);
    }

    @Override
    public void deleteNamespace(String name) throws NetException {
        if (name.equals("init_net") || namespaces.remove(name) == null) {
            throw new NetException(Errno.ENOENT);
        }
    }

    @Override
    public int cpus() {
        return softnet.size();
    }

    @Override
    public List<SoftnetStat> softnetStats() {
        return List.copyOf(softnet);
    }

    @Override
    public void netifReceiveSkb(SkBuff skb) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void devQueueXmit(SkBuff skb) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Timer timer(int cpu, Runnable function) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long nanoTime() {
        return 0;
    }

    @Override
    public SkBuffPool pool() {
        throw new UnsupportedOperationException();
    }

    @Override
    public org.modnet.api.skb.SkBuff allocSkb(int len, int headroom) {
        throw new UnsupportedOperationException();
    }
}
