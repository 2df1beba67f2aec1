package org.modnet.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.SOCK_DGRAM;

import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.module.ModuleUsage;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/** What the UDP module reports to lsmod and rmmod: its bound sockets, as sockstat's inuse counts them. */
class UdpModuleUsageTest {
    private UdpStack s;
    private SocketCalls sys;

    @BeforeEach
    void setUp() {
        s = new UdpStack();
        sys = s.process();
    }

    @AfterEach
    void tearDown() {
        sys.close();
        s.close();
    }

    @Test
    void countsBoundSocketsUntilTheyClose() {
        ModuleUsage usage = new UdpModuleUsage(s.udp);
        assertEquals(Map.of(ModuleUsage.SOCKETS, 0), usage.users());
        int a = sys.socket(AF_INET, SOCK_DGRAM, 0);
        int b = sys.socket(AF_INET, SOCK_DGRAM, 0);
        assertEquals(0, sys.bind(a, new SockAddr(0x7f000001, 5000)));
        assertEquals(0, sys.bind(b, new SockAddr(0x7f000001, 5001)));
        assertEquals(Map.of(ModuleUsage.SOCKETS, 2), usage.users());
        sys.close(a);
        assertEquals(Map.of(ModuleUsage.SOCKETS, 1), usage.users());
    }
}
