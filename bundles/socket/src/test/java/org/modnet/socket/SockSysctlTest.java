package org.modnet.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.Sysctl;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SocketCalls;

/**
 * A socket reads {@code net.core}'s buffer sizes, their ceilings and {@code busy_read} through the
 * handles the core registered, as {@code sock_init_data} and {@code sk_setsockopt} read the
 * namespace's values: no sysctl is printed as text and parsed back for a socket.
 */
class SockSysctlTest {
    private final LoopStack s = new LoopStack();
    private final AtomicInteger textReads = new AtomicInteger();

    @AfterEach
    void tearDown() {
        s.close();
    }

    /** The stack's namespace, its sysctl reads by name ({@code sysctl NAME}) counted. */
    private NetNamespace counted() {
        NetNamespace ns = s.stack.core().initNet();
        Sysctl tree = ns.sysctl();
        Sysctl counting = through(Sysctl.class, tree, (m, a) -> {
            if (m.getName().equals("get")) {
                textReads.incrementAndGet();
            }
            return m.invoke(tree, a);
        });
        return through(NetNamespace.class, ns, (m, a) -> m.getName().equals("sysctl") ? counting : m.invoke(ns, a));
    }

    private interface Call {
        Object on(java.lang.reflect.Method m, Object[] args) throws Exception;
    }

    /** {@code real} seen as {@code type} with its calls made by {@code call}; equal only to itself. */
    private static <T> T through(Class<T> type, T real, Call call) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] { type }, (proxy, m, a) -> {
            if (m.getDeclaringClass() == Object.class) {
                return switch (m.getName()) {
                    case "equals" -> proxy == a[0];
                    case "hashCode" -> System.identityHashCode(proxy);
                    default -> type.getSimpleName();
                };
            }
            try {
                return call.on(m, a);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }));
    }

    private static int option(Sock sk, int name) throws Exception {
        int[] v = new int[1];
        assertEquals(1, sk.getOption(SocketCalls.SOL_SOCKET, name, v));
        return v[0];
    }

    @Test
    void aSocketTakesNetCoresValuesWithoutReadingSysctlText() throws Exception {
        Sysctl tree = s.stack.core().initNet().sysctl();
        tree.set("net.core.rmem_default", "100000");
        tree.set("net.core.wmem_default", "50000");
        tree.set("net.core.rmem_max", "4096");
        tree.set("net.core.wmem_max", "3000");
        tree.set("net.core.busy_read", "50");
        Sock sk = new LoopSock(counted(), s.net);
        assertEquals(100000, option(sk, SocketCalls.SO_RCVBUF), "rmem_default");
        assertEquals(50000, option(sk, SocketCalls.SO_SNDBUF), "wmem_default");
        assertEquals(50, option(sk, SocketCalls.SO_BUSY_POLL), "busy_read");
        sk.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVBUF, new int[] { 1 << 20 });
        assertEquals(8192, option(sk, SocketCalls.SO_RCVBUF), "twice rmem_max");
        sk.setOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_SNDBUF, new int[] { 1 << 20 });
        assertEquals(6000, option(sk, SocketCalls.SO_SNDBUF), "twice wmem_max");
        assertEquals(0, textReads.get(), "sysctl values read as text");
    }
}
