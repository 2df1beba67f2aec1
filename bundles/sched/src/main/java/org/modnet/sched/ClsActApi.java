package org.modnet.sched;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.sched.QdiscHook;
import org.modnet.api.shell.CommandException;

/**
 * {@code tc qdisc add|replace|del dev DEV clsact|ingress}: one such qdisc per device, its hooks put on
 * the core's ingress (and egress) path and taken off again. Changes are serialised here (RTNL).
 */
final class ClsActApi {
    private final QdiscHook hook;
    private final Map<NetDevice, ClsAct> qdiscs = new ConcurrentHashMap<>();

    ClsActApi(QdiscHook hook) {
        this.hook = hook;
    }

    private static CommandException rtnl(String extack) {
        return new CommandException("Error: " + extack, 2);
    }

    /** The device's clsact/ingress qdisc, or null. */
    synchronized ClsAct get(NetDevice dev) {
        prune();
        return qdiscs.get(dev);
    }

    synchronized void modify(NetDevice dev, String cmd, String kind) {
        prune();
        ClsAct cur = qdiscs.get(dev);
        switch (cmd) {
            case "add", "replace", "change", "link" -> {
                if (cur != null) {
                    if (cmd.equals("add")) {
                        throw rtnl("Exclusivity flag on, cannot modify.");
                    }
                    if (!cur.kind.equals(kind)) {
                        throw rtnl("Invalid qdisc name.");
                    }
                    return; // the same: nothing to change
                }
                if (!cmd.equals("add") && !cmd.equals("replace")) {
                    throw rtnl("Qdisc not found. To create specify NLM_F_CREATE flag.");
                }
                ClsAct q = new ClsAct(kind);
                qdiscs.put(dev, q);
                hook.attachTc(dev, true, q);
                if (q.egress != null) {
                    hook.attachTc(dev, false, q);
                }
            }
            default -> {
                if (cur == null) {
                    throw rtnl("Cannot find specified qdisc on specified device.");
                }
                if (!cur.kind.equals(kind)) {
                    throw rtnl("Invalid qdisc name."); // ffff: is there, but of the other kind
                }
                detach(dev, cur);
            }
        }
    }

    private void detach(NetDevice dev, ClsAct q) {
        qdiscs.remove(dev);
        if (hook.tcHook(dev, true) == q) {
            hook.attachTc(dev, true, null);
        }
        if (hook.tcHook(dev, false) == q) {
            hook.attachTc(dev, false, null);
        }
        q.destroy();
    }

    /** The qdisc's lines of {@code tc [-s] qdisc show}. */
    synchronized List<String> show(NetDevice dev, boolean withDev, boolean stats) {
        ClsAct q = qdiscs.get(dev);
        if (q == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        out.add("qdisc " + q.kind + " ffff: " + (withDev ? "dev " + dev.name() + " " : "") + "parent ffff:fff1 "
                + (q.kind.equals("ingress") ? "---------------- " : ""));
        if (stats) {
            q.stats.print(out, " ");
        }
        return out;
    }

    /** Forgets devices that are gone. */
    private void prune() {
        qdiscs.entrySet().removeIf(e -> {
            NetNamespace ns = e.getKey().namespace();
            boolean gone = ns == null || ns.device(e.getKey().ifindex()) != e.getKey();
            if (gone) {
                e.getValue().destroy();
            }
            return gone;
        });
    }

    /** The bundle stops: every hook comes off its device. */
    synchronized void detachAll() {
        for (Map.Entry<NetDevice, ClsAct> e : new ArrayList<>(qdiscs.entrySet())) {
            detach(e.getKey(), e.getValue());
        }
    }
}
