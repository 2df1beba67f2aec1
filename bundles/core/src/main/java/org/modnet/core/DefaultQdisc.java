package org.modnet.core;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.modnet.api.net.Errno;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.StringSysctl;
import org.modnet.api.net.Timer;
import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.sched.QdiscOps;

/**
 * {@code net.core.default_qdisc} ({@code qdisc_set_default} and {@code attach_one_default_qdisc}): the
 * qdisc a device gets when it is made and when {@code tc qdisc del ... root} takes its own away. The
 * built-in {@code pfifo_fast} is always there; any other name must be a qdisc family registered now
 * (a {@link QdiscOps} service: the sched bundle's), else the write fails with ENOENT, as Linux's does
 * for a name no {@code sch_*} module provides. Without the sched bundle only {@code pfifo_fast} is
 * possible. Devices without a queue ({@code IFF_NO_QUEUE}: lo, veth) keep {@code noqueue} whatever it
 * says; a device keeps the default it got when the setting changes later, as in Linux. Global: it lives
 * in the initial namespace only.
 */
final class DefaultQdisc {
    static final String SYSCTL = "net.core.default_qdisc";
    static final String BUILTIN = "pfifo_fast";

    private final CoreEngine core;
    private final Map<String, QdiscOps> families = new ConcurrentHashMap<>();
    private volatile String kind = BUILTIN;
    private volatile StringSysctl sysctl;

    DefaultQdisc(CoreEngine core) {
        this.core = core;
    }

    void register(SysctlTree s) {
        sysctl = s.registerString(SYSCTL, BUILTIN, this::set);
    }

    /** {@code qdisc_set_default}: a family registered now, or ENOENT. */
    private String set(String value) throws NetException {
        String name = value.strip();
        if (!name.equals(BUILTIN) && !families.containsKey(name)) {
            throw new NetException(Errno.ENOENT);
        }
        kind = name;
        return name;
    }

    String kind() {
        return kind;
    }

    void addFamily(String name, QdiscOps ops) {
        families.put(name, ops);
    }

    /**
     * A family leaves: if it is the default, the default goes back to {@code pfifo_fast} (Linux holds
     * the module while it is the default; here it may go, and the setting says what devices get now),
     * and devices whose default was one of its qdiscs get the new default.
     */
    void removeFamily(String name, QdiscOps ops) {
        if (!families.remove(name, ops)) {
            return;
        }
        if (name.equals(kind)) {
            kind = BUILTIN;
            StringSysctl s = sysctl;
            if (s != null) {
                s.publish(BUILTIN);
            }
        }
        for (org.modnet.api.net.NetNamespace ns : core.namespaces()) {
            for (NetDevice d : ns.devices()) {
                if (d instanceof NetDev dev) {
                    dev.replaceDefaultOf(name);
                }
            }
        }
    }

    /**
     * The default qdisc for {@code dev} now: null for a device without a queue or for a {@code noqueue}
     * default; the built-in {@code pfifo_fast} when that is the setting, or when its family cannot make one.
     */
    Qdisc create(NetDev dev, boolean noQueue) {
        if (noQueue) {
            return null;
        }
        String k = kind;
        QdiscOps ops = k.equals(BUILTIN) ? null : families.get(k);
        if (ops == null) {
            return new PfifoFast(dev::txQueueLen);
        }
        if (k.equals("noqueue")) {
            return null;
        }
        try {
            return ops.create(env(dev), List.of());
        } catch (RuntimeException e) {
            return new PfifoFast(dev::txQueueLen); // a family that cannot start without options: the built-in one
        }
    }

    private QdiscEnv env(NetDev dev) {
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
                dev.qdiscRun();
            }
        };
    }
}
