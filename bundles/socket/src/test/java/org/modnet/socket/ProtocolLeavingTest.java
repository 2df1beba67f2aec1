package org.modnet.socket;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.api.SocketCalls.AF_INET;
import static org.modnet.socket.api.SocketCalls.SOCK_DGRAM;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.modnet.api.net.NetNamespace;
import org.modnet.core.StandaloneCore;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SocketProtocol;

/**
 * A protocol leaving for an update (its service unregistered: the socket layer's unbind runs inside the
 * framework's dispatch, before the protocol's own deactivation freezes its sockets): every one of its
 * sockets reads as parked as soon as the unbind returns, without the unbind taking each socket's lock,
 * and the holder's table of parked sockets is there for the next version's adoption.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class ProtocolLeavingTest {
    private final StandaloneCore stack = StandaloneCore.manual(1, 1024, System::nanoTime);
    private final NetNamespace init = stack.core().initNet();
    private final LoopSock.Net udp = new LoopSock.Net();
    private final AtomicBoolean updating = new AtomicBoolean();
    /** The loop protocol, handing over while {@link #updating} is set. */
    private final SocketProtocol leaving = new SocketProtocol() {
        @Override
        public Sock create(NetNamespace ns) {
            return udp.create(ns);
        }

        @Override
        public String name() {
            return udp.name();
        }

        @Override
        public long memoryPages(NetNamespace ns) {
            return 0;
        }

        @Override
        public boolean handingOver() {
            return updating.get();
        }
    };
    private final SocketLayer layer = new SocketLayer(stack.core());

    ProtocolLeavingTest() {
        layer.init(init);
        layer.addProtocol(leaving, LoopSock.Net.udpProperties());
    }

    @AfterEach
    void tearDown() {
        stack.shutdown();
    }

    @Test
    void theUnbindParksEverySocketWithoutTakingTheirLocks() throws Exception {
        LoopSock busy = (LoopSock) layer.create(init, AF_INET, SOCK_DGRAM, 0);
        Sock idle = layer.create(init, AF_INET, SOCK_DGRAM, 0);
        busy.lockForTest().lock(); // a call in progress on it, as the unbind comes
        try {
            updating.set(true);
            // before, the unbind parked each socket under its lock, inside the dispatch: it waited here for the call
            CompletableFuture.runAsync(() -> layer.removeProtocol(leaving)).get(10, TimeUnit.SECONDS);
            assertTrue(busy.isParked(), "parked while its lock is held");
            assertTrue(idle.isParked());
        } finally {
            busy.lockForTest().unlock();
        }
        Sock next = udp.create(init);
        layer.adopted(idle.inode(), next); // the next version's socket: the holder's table has the parked one
        assertSame(next, layer.successor(idle));
        assertFalse(next.isParked());
    }

    @Test
    void aSocketRemadeAfterItsProtocolRegisteredIsParkedByTheProtocolsNextUpdate() throws Exception {
        Sock old = layer.create(init, AF_INET, SOCK_DGRAM, 0);
        updating.set(true);
        layer.removeProtocol(leaving);
        layer.addProtocol(leaving, LoopSock.Net.udpProperties()); // the next version registers
        updating.set(false);
        Sock remade = udp.create(init); // remade lazily, after the registration (TCP's first segment or its pass)
        layer.adopted(old.inode(), remade);
        assertSame(remade, layer.successor(old));

        updating.set(true);
        layer.removeProtocol(leaving); // the update after

        assertTrue(remade.isParked(), "before, it was no protocol's: its calls met the frozen socket's EAGAIN");
    }
}
