package org.modnet.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.LoopStack.local;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SocketCalls;

/**
 * {@link ModnetDatagramSocket}: Java's DatagramSocket built with its protected constructor on a
 * DatagramSocketImpl whose operations are a modnet socket's, as {@code Sockets.datagramSocket} gives it.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class ModnetDatagramSocketTest {
    private final LoopStack stack = new LoopStack();

    @AfterEach
    void tearDown() {
        stack.close();
    }

    private DatagramSocket open() throws SocketException {
        return stack.layer.datagramSocket("");
    }

    private static DatagramPacket packet(String s, InetSocketAddress to) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return new DatagramPacket(b, b.length, to);
    }

    private static String text(DatagramPacket p) {
        return new String(p.getData(), p.getOffset(), p.getLength(), StandardCharsets.UTF_8);
    }

    @Test
    void datagramsGoBothWays() throws Exception {
        try (DatagramSocket server = open(); DatagramSocket client = open()) {
            assertInstanceOf(ModnetDatagramSocket.class, server);
            assertFalse(server.isBound());
            assertNull(server.getLocalSocketAddress());
            server.bind(local(5000));
            assertTrue(server.isBound());
            assertEquals(5000, server.getLocalPort());
            assertEquals(local(5000), server.getLocalSocketAddress());

            client.send(packet("question", local(5000)));
            assertTrue(client.isBound(), "the send bound an ephemeral port");
            DatagramPacket p = new DatagramPacket(new byte[100], 100);
            server.receive(p);
            assertEquals("question", text(p));
            assertEquals(client.getLocalPort(), p.getPort());
            assertEquals(InetAddress.getByName("127.0.0.1"), p.getAddress());

            server.send(packet("answer", (InetSocketAddress) p.getSocketAddress()));
            DatagramPacket back = new DatagramPacket(new byte[100], 100);
            client.receive(back);
            assertEquals("answer", text(back));
            assertEquals(local(5000), back.getSocketAddress());
        }
    }

    @Test
    void aReceiveIntoAnOffsetAndShortPacketCutsTheDatagram() throws Exception {
        try (DatagramSocket server = open(); DatagramSocket client = open()) {
            server.bind(local(5001));
            client.send(packet("0123456789", local(5001)));
            byte[] buf = new byte[10];
            DatagramPacket p = new DatagramPacket(buf, 2, 4);
            server.receive(p);
            assertEquals(4, p.getLength());
            assertEquals("0123", text(p));
            assertEquals(0, buf[0], "nothing before the offset");
            assertEquals(0, buf[6], "nothing after the length");
        }
    }

    @Test
    void soTimeoutEndsAReceiveWithSocketTimeoutException() throws Exception {
        try (DatagramSocket s = open()) {
            s.bind(local(5002));
            s.setSoTimeout(100);
            assertEquals(100, s.getSoTimeout());
            SocketTimeoutException e = assertThrows(SocketTimeoutException.class, () -> s.receive(new DatagramPacket(new byte[10], 10)));
            assertEquals("Receive timed out", e.getMessage());
            assertFalse(s.isClosed(), "a timeout leaves the socket usable");
            int[] rcvtimeo = new int[2];
            ((ModnetDatagramSocket) s).sock().getOption(SocketCalls.SOL_SOCKET, SocketCalls.SO_RCVTIMEO, rcvtimeo);
            assertEquals(0, rcvtimeo[0] + rcvtimeo[1], "SO_TIMEOUT is Java's, the socket's SO_RCVTIMEO is untouched");
        }
    }

    @Test
    void aDatagramArrivingWithinTheTimeoutIsReceived() throws Exception {
        try (DatagramSocket server = open(); DatagramSocket client = open()) {
            server.bind(local(5003));
            server.setSoTimeout(10_000);
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(100);
                    client.send(packet("in time", local(5003)));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            DatagramPacket p = new DatagramPacket(new byte[20], 20);
            server.receive(p);
            sent.get(10, TimeUnit.SECONDS);
            assertEquals("in time", text(p));
        }
    }

    @Test
    void aBlockingReceiveWithoutTimeoutWaitsForTheDatagram() throws Exception {
        try (DatagramSocket server = open(); DatagramSocket client = open()) {
            server.bind(local(5004));
            CompletableFuture<String> got = CompletableFuture.supplyAsync(() -> {
                try {
                    DatagramPacket p = new DatagramPacket(new byte[20], 20);
                    server.receive(p);
                    return text(p);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(100);
            client.send(packet("eventually", local(5004)));
            assertEquals("eventually", got.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void closingTheSocketEndsABlockedReceive() throws Exception {
        DatagramSocket server = open();
        server.bind(local(5005));
        CompletableFuture<Void> blocked = CompletableFuture.runAsync(() -> {
            try {
                server.receive(new DatagramPacket(new byte[20], 20));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(100);
        server.close();
        Throwable e = assertThrows(java.util.concurrent.ExecutionException.class, () -> blocked.get(10, TimeUnit.SECONDS)).getCause().getCause();
        assertInstanceOf(SocketException.class, e);
        assertEquals("Socket closed", e.getMessage());
    }

    @Test
    void peekDataLeavesTheDatagramQueued() throws Exception {
        try (DatagramSocket server = open(); DatagramSocket client = open()) {
            server.bind(local(5006));
            client.send(packet("peeked", local(5006)));
            Sock sock = ((ModnetDatagramSocket) server).sock();
            DatagramPacket peek = new DatagramPacket(new byte[3], 3);
            assertEquals(client.getLocalPort(), peekData(sock, peek));
            assertEquals("pee", text(peek));
            assertEquals(local(client.getLocalPort()), peek.getSocketAddress());
            assertEquals(6, sock.available(), "still queued after the peek");
            DatagramPacket p = new DatagramPacket(new byte[20], 20);
            server.receive(p);
            assertEquals("peeked", text(p));
            assertEquals(0, sock.available());
        }
    }

    /**
     * {@code DatagramSocketImpl.peekData} on an implementation over {@code sock}: java.net calls it for a
     * connected socket's filter, which no public method reaches, so the test calls it as java.net would.
     */
    private int peekData(Sock sock, DatagramPacket p) throws Exception {
        Class<?> impl = Class.forName(ModnetDatagramSocket.class.getName() + "$Impl");
        Constructor<?> c = impl.getDeclaredConstructor(SocketLayer.class, Sock.class, ModnetDatagramChannel.class);
        c.setAccessible(true);
        Object i = c.newInstance(stack.layer, sock, null);
        Method m = impl.getDeclaredMethod("peekData", DatagramPacket.class);
        m.setAccessible(true);
        try {
            return (Integer) m.invoke(i, p);
        } catch (InvocationTargetException e) {
            throw (Exception) e.getCause();
        }
    }

    @Test
    void connectAndDisconnect() throws Exception {
        try (DatagramSocket a = open(); DatagramSocket b = open()) {
            b.bind(local(5007));
            a.connect(local(5007));
            assertTrue(a.isConnected());
            assertTrue(a.isBound(), "connect bound a port");
            assertEquals(5007, a.getPort());
            assertEquals(InetAddress.getByName("127.0.0.1"), a.getInetAddress());
            assertEquals(local(5007), a.getRemoteSocketAddress());
            int port = a.getLocalPort();

            a.send(new DatagramPacket(new byte[] { 42 }, 1)); // to the connected peer
            DatagramPacket p = new DatagramPacket(new byte[4], 4);
            b.receive(p);
            assertEquals(42, p.getData()[0]);
            assertThrows(IllegalArgumentException.class, () -> a.send(packet("elsewhere", local(5008))));

            a.disconnect();
            assertFalse(a.isConnected());
            assertEquals(-1, a.getPort());
            assertNull(a.getRemoteSocketAddress());
            assertEquals(port, a.getLocalPort(), "the port stays");
        }
    }

    @Test
    void aDatagramToNobodyIsAPortUnreachableForAConnectedSocket() throws Exception {
        try (DatagramSocket s = open()) {
            s.connect(local(9));
            s.send(new DatagramPacket(new byte[] { 1 }, 1));
            assertThrows(PortUnreachableException.class, () -> s.receive(new DatagramPacket(new byte[4], 4)));
        }
    }

    @Test
    void aFailedBindIsABindExceptionAndTheSocketStaysOpen() throws Exception {
        try (DatagramSocket a = open(); DatagramSocket b = open()) {
            a.bind(local(5009));
            BindException e = assertThrows(BindException.class, () -> b.bind(local(5009)));
            assertEquals("Address already in use", e.getMessage());
            assertFalse(b.isClosed());
            assertFalse(b.isBound());
            b.bind(null);
            assertTrue(b.isBound());
            SocketException twice = assertThrows(SocketException.class, () -> b.bind(null));
            assertEquals("already bound", twice.getMessage());
        }
    }

    @Test
    void optionsAreTheSocketsOptions() throws Exception {
        try (DatagramSocket s = open()) {
            s.setReceiveBufferSize(4096);
            assertEquals(8192, s.getReceiveBufferSize(), "Linux doubles it");
            s.setSendBufferSize(5000);
            assertEquals(10000, s.getSendBufferSize());
            assertFalse(s.getReuseAddress());
            s.setReuseAddress(true);
            assertTrue(s.getReuseAddress());
            s.setBroadcast(true);
            assertTrue(s.getBroadcast());
            s.setTrafficClass(0x28);
            assertEquals(0x28, s.getTrafficClass());
            s.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            assertTrue(s.getOption(StandardSocketOptions.SO_REUSEPORT));
            s.setOption(StandardSocketOptions.SO_RCVBUF, 3000);
            assertEquals(6000, s.getOption(StandardSocketOptions.SO_RCVBUF));
            assertEquals(6, s.supportedOptions().size());
            assertThrows(UnsupportedOperationException.class, () -> s.setOption(StandardSocketOptions.IP_MULTICAST_LOOP, true));
            assertTrue(((ModnetDatagramSocket) s).sock().broadcast());
            assertEquals(0x28, ((ModnetDatagramSocket) s).sock().tos());
        }
    }

    @Test
    void multicastIsRefusedClearly() throws Exception {
        try (DatagramSocket s = open()) {
            SocketException e = assertThrows(SocketException.class,
                    () -> s.joinGroup(new InetSocketAddress("239.1.2.3", 5000), null));
            assertEquals("multicast is not supported yet", e.getMessage());
            assertThrows(SocketException.class, () -> s.leaveGroup(new InetSocketAddress("239.1.2.3", 5000), null));
        }
    }

    @Test
    void aClosedSocketRefusesAndReleasesItsPort() throws Exception {
        DatagramSocket s = open();
        s.bind(local(5010));
        s.close();
        assertTrue(s.isClosed());
        assertTrue(((ModnetDatagramSocket) s).sock().isClosed());
        assertEquals(-1, s.getLocalPort());
        SocketException e = assertThrows(SocketException.class, () -> s.send(packet("x", local(5011))));
        assertEquals("Socket is closed", e.getMessage());
        assertThrows(SocketException.class, () -> s.setSoTimeout(1));
        s.close();
        try (DatagramSocket again = open()) {
            again.bind(local(5010));
        }
    }

    @Test
    void aMissingNamespaceIsASocketException() {
        SocketException e = assertThrows(SocketException.class, () -> stack.layer.datagramSocket("nowhere"));
        assertTrue(e.getMessage().contains("nowhere"), e.getMessage());
    }
}
