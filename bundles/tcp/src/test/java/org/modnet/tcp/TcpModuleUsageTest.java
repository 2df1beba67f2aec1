package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.SOCK_NONBLOCK;
import static org.modnet.socket.api.SocketCalls.SOCK_STREAM;

import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.module.ModuleUsage;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/** What the TCP module reports to lsmod and rmmod: its hashed sockets, counted while they exist. */
class TcpModuleUsageTest {
    private TcpStack s;
    private SocketCalls sys;

    @BeforeEach
    void setUp() {
        s = new TcpStack();
        sys = s.process();
    }

    @AfterEach
    void tearDown() {
        sys.close();
        s.close();
    }

    @Test
    void countsTheListenerAndBothEndsOfAConnectionThenNoneAfterTheyClose() {
        ModuleUsage usage = new TcpModuleUsage(s.tcp);
        assertEquals(Map.of(ModuleUsage.SOCKETS, 0), usage.users());
        int l = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assertEquals(0, sys.bind(l, new SockAddr(TcpConnectTest.LOCALHOST, 5000)));
        assertEquals(0, sys.listen(l, 4));
        assertEquals(Map.of(ModuleUsage.SOCKETS, 1), usage.users(), "the listener");
        int c = sys.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sys.connect(c, new SockAddr(TcpConnectTest.LOCALHOST, 5000));
        s.run();
        int a = sys.accept(l, null, 0);
        assertTrue(a >= 3, "accept: " + SocketCalls.strerror(a));
        assertEquals(Map.of(ModuleUsage.SOCKETS, 3), usage.users(), "listener, client, accepted child");
        sys.close(l);
        assertEquals(Map.of(ModuleUsage.SOCKETS, 2), usage.users(), "the connection's two ends remain");
    }
}
