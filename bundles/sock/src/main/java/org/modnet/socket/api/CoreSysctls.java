package org.modnet.socket.api;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

import org.modnet.api.net.IntSysctl;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.Sysctl;

/**
 * The {@code net.core} sysctls a socket reads: the buffer sizes it starts with and SO_BUSY_POLL's
 * default ({@code sock_init_data}), SO_RCVBUF's and SO_SNDBUF's ceilings ({@code sk_setsockopt}). One
 * set a namespace, the core's own handles (the core registers them as the namespace is made and never
 * removes them), so a read is a volatile read, not a value printed and parsed back.
 */
final class CoreSysctls {
    private static final Map<Sysctl, CoreSysctls> BY_TREE = Collections.synchronizedMap(new WeakHashMap<>());

    final IntSysctl rmemDefault;
    final IntSysctl wmemDefault;
    final IntSysctl rmemMax;
    final IntSysctl wmemMax;
    final IntSysctl busyRead;

    private CoreSysctls(Sysctl s) {
        // the core's defaults and ranges: registering a name it holds returns its handle
        rmemDefault = s.registerInt("net.core.rmem_default", 212992, 256, Integer.MAX_VALUE);
        wmemDefault = s.registerInt("net.core.wmem_default", 212992, 256, Integer.MAX_VALUE);
        rmemMax = s.registerInt("net.core.rmem_max", 212992, 256, Integer.MAX_VALUE);
        wmemMax = s.registerInt("net.core.wmem_max", 212992, 256, Integer.MAX_VALUE);
        busyRead = s.registerInt("net.core.busy_read", 0, 0, Integer.MAX_VALUE);
    }

    static CoreSysctls of(NetNamespace ns) {
        return BY_TREE.computeIfAbsent(ns.sysctl(), CoreSysctls::new);
    }
}
