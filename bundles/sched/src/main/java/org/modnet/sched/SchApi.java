package org.modnet.sched;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.Timer;
import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.sched.QdiscHook;
import org.modnet.api.sched.QdiscOps;
import org.modnet.api.sched.QdiscStats;
import org.modnet.api.shell.CommandException;

/**
 * The qdisc side of rtnetlink ({@code net/sched/sch_api.c}: {@code tc_modify_qdisc},
 * {@code tc_get_qdisc}, {@code tc_dump_qdisc}): creates qdiscs through their family, grafts them on
 * the core's hook with a handle, changes, deletes and dumps them. Changes are serialised here (RTNL);
 * the packet path never comes here. Errors are the kernel's extack words, status 2.
 */
final class SchApi {
    /** {@code TC_H_ROOT}. */
    static final int ROOT = -1;

    /** {@code tc qdisc show}'s lines for a device's clsact/ingress qdisc: (device, with its name, statistics). */
    interface IngressLines {
        List<String> show(NetDevice dev, boolean withDev, boolean stats);
    }

    /** A qdisc this layer put on a device, with its handle. */
    record Attached(int handle, Qdisc qdisc) {
    }

    private final NetCore core;
    private final QdiscHook hook;
    private final Function<String, QdiscOps> families;
    /** The lines of the device's clsact/ingress qdisc, printed after its root's. */
    private final IngressLines ingress;
    private final Map<NetDevice, Attached> attached = new ConcurrentHashMap<>();
    /** Child qdiscs a user grafted into a classful root's classes, by device and class id. */
    private final Map<NetDevice, Map<Integer, Attached>> children = new ConcurrentHashMap<>();
    /** {@code qdisc_alloc_handle}'s counter: 8001:, 8002:, ... */
    private final AtomicInteger autohandle = new AtomicInteger(0x8000);

    SchApi(NetCore core, QdiscHook hook, Function<String, QdiscOps> families, IngressLines ingress) {
        this.core = core;
        this.hook = hook;
        this.families = families;
        this.ingress = ingress;
    }

    private static CommandException rtnl(String extack) {
        return new CommandException("Error: " + extack, 2);
    }

    /** The qdisc this layer attached and that is still on the device, or null (the default is there). */
    private Attached current(NetDevice dev) {
        Attached a = attached.get(dev);
        if (a == null) {
            return null;
        }
        Qdisc now = hook.qdisc(dev);
        boolean on = "noqueue".equals(a.qdisc().kind()) ? now == null : now == onDevice(a.qdisc());
        return on ? a : null;
    }

    /** What the core has on the device for a root tc attached: tc's mq is the core's own mq. */
    private static Qdisc onDevice(Qdisc q) {
        return q instanceof SchMq mq ? mq.root() : q;
    }

    /** {@code tc qdisc add|replace|change|link}: {@code create} and {@code exclusive}/{@code replace} as NLM_F_* flags. */
    synchronized void modify(NetDevice dev, int parent, int handle, String kind, List<String> args,
            boolean create, boolean exclusive, boolean replace) {
        prune();
        QdiscOps ops = kind == null ? null : families.apply(kind);
        if (kind != null && ops == null) {
            throw rtnl("Specified qdisc kind is unknown.");
        }
        if (parent != ROOT) {
            modifyChild(dev, parent, handle, kind, ops, args, create, exclusive, replace);
            return;
        }
        Attached cur = current(dev);
        if (ops == null) {
            throw new CommandException("Error: Qdisc kind is required.", 2);
        }
        if (cur != null) {
            boolean named = handle == 0 || handle == cur.handle();
            if (exclusive) {
                throw rtnl("Exclusivity flag on, cannot modify.");
            }
            if (!create && !named) {
                throw rtnl("Qdisc not found. To create specify NLM_F_CREATE flag.");
            }
            if (named && kind.equals(cur.qdisc().kind())) { // the same qdisc: qdisc_change, the queue stays
                synchronized (cur.qdisc()) {
                    cur.qdisc().change(args);
                }
                return;
            }
            if (!replace) {
                throw rtnl("Invalid qdisc name.");
            }
        } else if (!create) {
            throw rtnl("Qdisc not found. To create specify NLM_F_CREATE flag.");
        }
        graftNew(dev, ops, handle, args);
    }

    private void graftNew(NetDevice dev, QdiscOps ops, int handle, List<String> args) {
        Qdisc q = ops.create(env(dev), args); // the family reads its words first, as tc does before asking the kernel
        int h = handle != 0 ? handle : autohandle.addAndGet(1) << 16;
        if (q instanceof ClassfulQdisc cls) {
            cls.handle(h);
        }
        if (q instanceof SchMq mq && dev.txQueues() < 2) {
            throw new CommandException("RTNETLINK answers: Operation not supported", 2); // mq_init: not multi-queue
        }
        Attached old = current(dev);
        Qdisc was;
        if (q instanceof SchMq mq) {
            List<Qdisc> kids = new ArrayList<>();
            for (int i = 0; i < dev.txQueues(); i++) {
                kids.add(defaultChild(dev));
            }
            was = hook.qdisc(dev);
            try {
                mq.attach(hook, kids, () -> defaultChild(dev));
            } catch (org.modnet.api.net.NetException e) {
                kids.forEach(Qdisc::destroy);
                throw new CommandException("RTNETLINK answers: " + e.errno().text(), 2);
            }
            attached.put(dev, new Attached(h, q));
            children.remove(dev);
        } else {
            attached.put(dev, new Attached(h, q));
            children.remove(dev); // they go with the root they were in
            was = hook.graft(dev, q);
        }
        if (old != null) {
            old.qdisc().destroy();
        } else if (was != null && was != q && attachedNowhere(was)) {
            was.destroy();
        }
    }

    /** {@code get_default_qdisc_ops}: a queue's qdisc under mq is {@code net.core.default_qdisc}'s kind. */
    private Qdisc defaultChild(NetDevice dev) {
        String kind = "pfifo_fast";
        try {
            kind = dev.namespace().sysctl().get("net.core.default_qdisc").strip();
        } catch (org.modnet.api.net.NetException | RuntimeException e) {
            // no such sysctl here: the kernel's own default
        }
        QdiscOps ops = families.apply(kind);
        if (ops == null) {
            ops = families.apply("pfifo_fast");
        }
        if (ops == null) {
            throw rtnl("Specified qdisc kind is unknown.");
        }
        return ops.create(env(dev), List.of());
    }

    private boolean attachedNowhere(Qdisc q) {
        return attached.values().stream().noneMatch(a -> a.qdisc() == q || onDevice(a.qdisc()) == q);
    }

    /** {@code tc qdisc del}: the root goes and the device's default comes back. */
    synchronized void delete(NetDevice dev, int parent, int handle) {
        prune();
        if (parent != ROOT) {
            deleteChild(dev, parent, handle);
            return;
        }
        Attached cur = current(dev);
        if (cur == null) {
            throw rtnl("Cannot delete qdisc with handle of zero.");
        }
        if (handle != 0 && handle != cur.handle()) {
            throw rtnl("Invalid handle.");
        }
        attached.remove(dev);
        children.remove(dev);
        hook.graft(dev, null);
        cur.qdisc().destroy();
    }

    /**
     * The filter block of the device's root qdisc, which {@code parent} (0: the root, whatever its
     * handle) names; the kernel's error when there is none or it holds no filters.
     */
    synchronized TcFilterBlock filterBlock(NetDevice dev, int parent) {
        prune();
        Attached cur = current(dev);
        if (cur == null || (parent != 0 && parent != ROOT && (parent & 0xffff0000) != cur.handle())) {
            throw TcFilterApi.kernel("Parent Qdisc doesn't exists");
        }
        if (!(cur.qdisc() instanceof TcFilterParent p)) {
            throw TcFilterApi.kernel("Qdisc not classful");
        }
        return p.filters();
    }

    /** The handle of the device's root qdisc if it holds filters, else 0. */
    synchronized int filterRoot(NetDevice dev) {
        prune();
        Attached cur = current(dev);
        return cur != null && cur.qdisc() instanceof TcFilterParent ? cur.handle() : 0;
    }

    /** {@code qdisc_leaf}: the classful root and the class a class id names, or tc's error. */
    private record Leaf(Attached root, ClassfulQdisc cls, int classid) {
    }

    private Leaf leaf(NetDevice dev, int parent) {
        Attached root = current(dev);
        if (root == null && (parent & 0xffff0000) == 0) {
            root = adoptDefaultMq(dev);
        }
        if (root == null || (parent & 0xffff0000) != root.handle()) {
            throw rtnl("Failed to find specified qdisc.");
        }
        if (!(root.qdisc() instanceof ClassfulQdisc cls)) {
            throw rtnl("Parent qdisc is not classful.");
        }
        synchronized (root.qdisc()) {
            if (!cls.hasLeaf(parent)) {
                throw rtnl("Specified class not found.");
            }
        }
        return new Leaf(root, cls, parent);
    }

    /**
     * {@code parent :N} on a device whose default is mq ({@code attach_default_qdiscs}'s, handle 0):
     * tc takes it over as its own mq of handle 0 with the same children, so a queue's qdisc can be
     * replaced as Linux allows; null when the default is not mq. Frames queued in the children at that
     * moment are freed, counted in tx_dropped.
     */
    private Attached adoptDefaultMq(NetDevice dev) {
        Qdisc q = hook.qdisc(dev);
        if (q == null || !"mq".equals(q.kind()) || !hook.isDefault(dev)) {
            return null;
        }
        List<Qdisc> kids = new ArrayList<>();
        for (int i = 0; i < dev.txQueues(); i++) {
            Qdisc c = hook.txQdisc(dev, i);
            if (c == null) {
                return null;
            }
            kids.add(c);
        }
        SchMq mq = new SchMq(dev);
        try {
            mq.attach(hook, kids, () -> defaultChild(dev));
        } catch (org.modnet.api.net.NetException e) {
            throw new CommandException("RTNETLINK answers: " + e.errno().text(), 2);
        }
        Attached a = new Attached(0, mq);
        attached.put(dev, a);
        children.remove(dev);
        return a;
    }

    /** The child a user grafted in that class, if it is still there. */
    private Attached currentChild(NetDevice dev, Leaf leaf, int classid) {
        Map<Integer, Attached> kids = children.get(dev);
        Attached a = kids == null ? null : kids.get(classid);
        if (a == null) {
            return null;
        }
        synchronized (leaf.root().qdisc()) {
            return leaf.cls().hasLeaf(leaf.classid()) && leaf.cls().leaf(leaf.classid()) == a.qdisc() ? a : null;
        }
    }

    private void modifyChild(NetDevice dev, int parent, int handle, String kind, QdiscOps ops, List<String> args,
            boolean create, boolean exclusive, boolean replace) {
        Leaf leaf = leaf(dev, parent);
        if (ops == null) {
            throw new CommandException("Error: Qdisc kind is required.", 2);
        }
        if (kind.equals("noqueue")) {
            throw new CommandException("RTNETLINK answers: Invalid argument", 2);
        }
        Attached cur = currentChild(dev, leaf, parent);
        if (cur != null) {
            boolean named = handle == 0 || handle == cur.handle();
            if (exclusive) {
                throw rtnl("Exclusivity flag on, cannot modify.");
            }
            if (!create && !named) {
                throw rtnl("Qdisc not found. To create specify NLM_F_CREATE flag.");
            }
            if (named && kind.equals(cur.qdisc().kind())) {
                synchronized (leaf.root().qdisc()) {
                    cur.qdisc().change(args);
                }
                return;
            }
            if (!replace) {
                throw rtnl("Invalid qdisc name.");
            }
        } else if (!create) {
            throw rtnl("Qdisc not found. To create specify NLM_F_CREATE flag.");
        }
        Map<Integer, Attached> kids = children.computeIfAbsent(dev, d -> new ConcurrentHashMap<>());
        if (handle != 0 && (handle == leaf.root().handle() || kids.values().stream().anyMatch(k -> k.handle() == handle && k != cur))) {
            throw rtnl("Exclusivity flag on, cannot modify.");
        }
        Qdisc q = ops.create(env(dev), args);
        int h = handle != 0 ? handle : autohandle.addAndGet(1) << 16;
        graftChild(dev, leaf, q);
        kids.put(parent, new Attached(h, q));
    }

    /** {@code qdisc_graft} into a class: under the root's lock; what the old child held is freed and counted. */
    private void graftChild(NetDevice dev, Leaf leaf, Qdisc q) {
        Qdisc old;
        synchronized (leaf.root().qdisc()) {
            old = leaf.cls().graft(leaf.classid(), q);
            int freed = old.reset();
            if (freed > 0) {
                dev.stats().addShared(org.modnet.api.net.DeviceStats.Field.TX_DROPPED, freed);
            }
        }
        old.destroy();
        hook.schedule(dev);
    }

    private void deleteChild(NetDevice dev, int parent, int handle) {
        Leaf leaf = leaf(dev, parent);
        Attached cur = currentChild(dev, leaf, parent);
        if (cur == null) {
            throw rtnl("Cannot delete qdisc with handle of zero.");
        }
        if (handle != 0 && handle != cur.handle()) {
            throw rtnl("Invalid handle.");
        }
        children.get(dev).remove(parent);
        graftChild(dev, leaf, null);
    }

    /**
     * The classful qdisc at the root of {@code dev} with handle {@code handle} (major only), or null:
     * where {@code tc filter ... parent H:} finds the qdisc whose {@link ClassfulQdisc#filters} it sets.
     */
    synchronized ClassfulQdisc classful(NetDevice dev, int handle) {
        Attached root = current(dev);
        return root != null && root.handle() == (handle & 0xffff0000) && root.qdisc() instanceof ClassfulQdisc c ? c : null;
    }

    /** {@code tc qdisc show}: the lines for each device of the namespace (or the one named). */
    synchronized List<String> show(NetNamespace ns, NetDevice only, boolean stats) {
        prune();
        List<String> out = new ArrayList<>();
        for (NetDevice dev : only != null ? List.of(only) : ns.devices()) {
            Attached cur = current(dev);
            Qdisc q = cur != null ? cur.qdisc() : hook.qdisc(dev);
            String kind = q == null ? "noqueue" : q.kind();
            int h = cur != null ? cur.handle() : 0;
            StringBuilder line = new StringBuilder("qdisc ").append(kind).append(' ').append(TcUtil.handle(h)).append(' ');
            if (only == null) {
                line.append("dev ").append(dev.name()).append(' ');
            }
            // iproute2 prints refcnt when it is not 1: a root the device holds; mq's is the scheduler's alone
            boolean defaultMq = cur == null && q != null && "mq".equals(q.kind()); // attach_default_qdiscs' own
            line.append(q instanceof SchMq || defaultMq ? "root " : "root refcnt 2 ");
            String opts;
            QdiscStats st;
            int qlen;
            int bytes;
            String xstats;
            if (q == null) {
                opts = "";
                st = new QdiscStats();
                qlen = 0;
                bytes = 0;
                xstats = null;
            } else {
                synchronized (q) {
                    opts = q.options();
                    st = q.stats();
                    qlen = q.qlen();
                    bytes = q.backlogBytes();
                    xstats = q.xstats();
                }
            }
            out.add(line.append(opts).toString());
            statLines(out, stats, st, qlen, bytes, xstats);
            if (cur != null && cur.qdisc() instanceof SchMq || defaultMq) {
                showMq(out, dev, only == null, stats, cur);
            } else if (cur != null && cur.qdisc() instanceof ClassfulQdisc cls) {
                Map<Integer, Attached> kids = children.getOrDefault(dev, Map.of());
                for (Map.Entry<Integer, Attached> k : new java.util.TreeMap<>(kids).entrySet()) {
                    Leaf leaf = new Leaf(cur, cls, k.getKey());
                    if (currentChild(dev, leaf, k.getKey()) == null) {
                        continue;
                    }
                    Qdisc c = k.getValue().qdisc();
                    StringBuilder cl = new StringBuilder("qdisc ").append(c.kind()).append(' ')
                            .append(TcUtil.handle(k.getValue().handle())).append(' ');
                    if (only == null) {
                        cl.append("dev ").append(dev.name()).append(' ');
                    }
                    cl.append("parent ").append(TcUtil.handle(k.getKey())).append(' ');
                    synchronized (q) {
                        out.add(cl.append(c.options()).toString());
                        statLines(out, stats, c.stats(), c.qlen(), c.backlogBytes(), c.xstats());
                    }
                }
            }
            out.addAll(ingress.show(dev, only == null, stats));
        }
        return out;
    }

    /**
     * mq's children, one per queue, last queue first as the kernel dumps them: a configured mq's
     * ({@code root}), or with {@code root} null the default one {@code attach_default_qdiscs} made
     * (handle 0:, a queue with no qdisc shown as noqueue).
     */
    private void showMq(List<String> out, NetDevice dev, boolean withDev, boolean stats, Attached root) {
        SchMq mq = root == null ? null : (SchMq) root.qdisc();
        int major = root == null ? 0 : root.handle();
        Map<Integer, Attached> kids = children.getOrDefault(dev, Map.of());
        for (int i = mq == null ? dev.txQueues() : mq.queues(); i >= 1; i--) {
            int classid = major | i;
            Qdisc c = mq == null ? hook.txQdisc(dev, i - 1) : mq.child(i - 1);
            Attached a = kids.get(classid);
            int h = c != null && a != null && a.qdisc() == c ? a.handle() : 0;
            StringBuilder cl = new StringBuilder("qdisc ").append(c == null ? "noqueue" : c.kind()).append(' ')
                    .append(TcUtil.handle(h)).append(' ');
            if (withDev) {
                cl.append("dev ").append(dev.name()).append(' ');
            }
            // sprint_tc_classid: a class of major 0 (the default mq's) is ":N"
            cl.append("parent ").append(major == 0 ? ":" + Integer.toHexString(i) : TcUtil.handle(classid)).append(' ');
            if (c == null) {
                out.add(cl.toString());
                statLines(out, stats, new QdiscStats(), 0, 0, null);
                continue;
            }
            synchronized (c) {
                out.add(cl.append(c.options()).toString());
                statLines(out, stats, c.stats(), c.qlen(), c.backlogBytes(), c.xstats());
            }
        }
    }

    private static void statLines(List<String> out, boolean stats, QdiscStats st, int qlen, int bytes, String xstats) {
        if (!stats) {
            return;
        }
        out.add(" Sent " + st.bytes() + " bytes " + st.packets() + " pkt (dropped " + st.drops() + ", overlimits "
                + st.overlimits() + " requeues " + st.requeues() + ") ");
        out.add(" backlog " + TcUtil.size(bytes) + " " + qlen + "p requeues " + st.requeues());
        if (xstats != null) {
            out.add(xstats);
        }
    }

    /**
     * {@code tc_ctl_tclass}: {@code tc class add|change|replace|del} on the root qdisc's classes.
     * {@code create} and {@code exclusive} are the NLM_F_* flags of add and replace; a delete has
     * neither and no kind.
     */
    synchronized void modifyClass(NetDevice dev, int parent, int classid, String kind, List<String> args, boolean create,
            boolean exclusive, boolean delete) {
        prune();
        int major = (classid != 0 ? classid : parent) & 0xffff0000;
        Attached root = current(dev);
        if (root == null || major == 0 || root.handle() != major) {
            throw new CommandException("RTNETLINK answers: No such file or directory", 2);
        }
        if (!(root.qdisc() instanceof ClassfulQdisc)) {
            throw new CommandException("RTNETLINK answers: Invalid argument", 2);
        }
        if (!(root.qdisc() instanceof SchHtb htb)) {
            throw new CommandException("RTNETLINK answers: Operation not supported", 2);
        }
        if (kind != null && !kind.equals("htb")) {
            throw new CommandException("RTNETLINK answers: Invalid argument", 2);
        }
        if (classid == 0) {
            throw new CommandException("RTNETLINK answers: Invalid argument", 2);
        }
        synchronized (htb) {
            SchHtb.HtbClass cl = htb.find(classid);
            if (delete) {
                htb.deleteClass(classid);
                Map<Integer, Attached> kids = children.get(dev);
                if (kids != null) {
                    kids.remove(classid);
                }
            } else if (cl == null) {
                if (!create) {
                    throw new CommandException("RTNETLINK answers: No such file or directory", 2);
                }
                htb.addClass(parent, classid, args);
            } else {
                if (exclusive) {
                    throw new CommandException("RTNETLINK answers: File exists", 2);
                }
                htb.changeClass(classid, args);
            }
        }
        hook.schedule(dev);
    }

    /** {@code tc class show}: the classes of each device's root qdisc (htb's, prio's bands). */
    synchronized List<String> showClasses(NetNamespace ns, NetDevice only, boolean stats) {
        prune();
        List<String> out = new ArrayList<>();
        for (NetDevice dev : only != null ? List.of(only) : ns.devices()) {
            Attached root = current(dev);
            if (root == null || !(root.qdisc() instanceof ClassfulQdisc cls)) {
                continue;
            }
            Map<Integer, Attached> kids = children.getOrDefault(dev, Map.of());
            String on = only == null ? "dev " + dev.name() + " " : "";
            synchronized (root.qdisc()) {
                if (cls instanceof SchHtb htb) {
                    for (SchHtb.HtbClass c : htb.classes()) {
                        Attached kid = kids.get(c.classid);
                        int leafHandle = kid != null && c.leaf == kid.qdisc() ? kid.handle() : 0;
                        out.add("class htb " + TcUtil.handle(c.classid) + " " + on + htb.classLine(c, leafHandle));
                        if (stats) {
                            out.addAll(htb.classStats(c));
                        }
                    }
                } else if (cls instanceof SchPrio prio) {
                    for (int band = 1; band <= prio.bands(); band++) {
                        int id = root.handle() | band;
                        Attached kid = kids.get(id);
                        Qdisc child = prio.leaf(id);
                        String leaf = kid != null && child == kid.qdisc() ? "leaf " + TcUtil.handle(kid.handle()) + " " : "";
                        out.add("class prio " + TcUtil.handle(id) + " " + on + "parent " + TcUtil.handle(root.handle()) + " " + leaf);
                        statLines(out, stats, child.stats(), child.qlen(), child.backlogBytes(), null);
                    }
                }
            }
        }
        return out;
    }

    /** Forgets devices that are gone (their qdisc went with them). */
    private void prune() {
        children.keySet().retainAll(attached.keySet());
        attached.entrySet().removeIf(e -> {
            NetDevice dev = e.getKey();
            NetNamespace ns = dev.namespace();
            boolean gone = ns == null || ns.device(dev.ifindex()) != dev;
            if (gone) {
                e.getValue().qdisc().destroy();
            }
            return gone;
        });
    }

    /** The bundle stops: every device gets its default back, as unloading an {@code sch_*} module does. */
    synchronized void detachAll() {
        for (Map.Entry<NetDevice, Attached> e : attached.entrySet()) {
            if (current(e.getKey()) != null) {
                hook.graft(e.getKey(), null);
            }
            e.getValue().qdisc().destroy();
        }
        attached.clear();
        children.clear();
    }

    /** A family went away: its qdiscs come off their devices. */
    synchronized void detachKind(String kind) {
        for (Map.Entry<NetDevice, Map<Integer, Attached>> e : children.entrySet()) {
            Attached root = current(e.getKey());
            e.getValue().entrySet().removeIf(k -> {
                if (!k.getValue().qdisc().kind().equals(kind)) {
                    return false;
                }
                if (root != null && root.qdisc() instanceof ClassfulQdisc cls) {
                    Leaf leaf = new Leaf(root, cls, k.getKey());
                    if (currentChild(e.getKey(), leaf, k.getKey()) != null) {
                        graftChild(e.getKey(), leaf, null);
                        return true;
                    }
                }
                k.getValue().qdisc().destroy();
                return true;
            });
        }
        attached.entrySet().removeIf(e -> {
            if (!e.getValue().qdisc().kind().equals(kind)) {
                return false;
            }
            children.remove(e.getKey());
            if (current(e.getKey()) != null) {
                hook.graft(e.getKey(), null);
            }
            e.getValue().qdisc().destroy();
            return true;
        });
    }

    QdiscEnv env(NetDevice dev) {
        return new QdiscEnv() {
            @Override
            public NetDevice device() {
                return dev;
            }

            @Override
            public long nanoTime() {
                return core.nanoTime();
            }

            @Override
            public Timer timer(Runnable function) {
                return core.hrtimer(dev.ifindex(), function);
            }

            @Override
            public void schedule() {
                hook.schedule(dev);
            }
        };
    }
}
