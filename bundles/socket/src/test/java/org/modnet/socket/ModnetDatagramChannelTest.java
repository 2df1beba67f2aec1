package org.modnet.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.socket.LoopStack.bytes;
import static org.modnet.socket.LoopStack.local;
import static org.modnet.socket.LoopStack.text;

import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.modnet.socket.api.Sock;

/** {@link ModnetDatagramChannel} and {@link ModnetSelectorProvider} over the real socket layer, with {@link LoopSock} as UDP. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class ModnetDatagramChannelTest {
    private final LoopStack stack = new LoopStack();

    @AfterEach
    void tearDown() {
        stack.close();
    }

    @Test
    void datagramsGoBothWaysWithTheirSenders() throws Exception {
        try (DatagramChannel server = stack.channel(); DatagramChannel client = stack.channel()) {
            server.bind(local(5353));
            assertEquals(local(5353), server.getLocalAddress());
            assertNull(client.getLocalAddress(), "unbound");
            client.bind(null);
            InetSocketAddress clientAddress = (InetSocketAddress) client.getLocalAddress();
            assertNotNull(clientAddress);
            assertNotEquals(0, clientAddress.getPort());

            assertEquals(4, client.send(bytes("ping"), local(5353)));
            ByteBuffer in = ByteBuffer.allocate(100);
            InetSocketAddress from = (InetSocketAddress) server.receive(in);
            assertEquals("ping", text(in));
            assertEquals(clientAddress.getPort(), from.getPort());
            assertEquals("127.0.0.1", from.getAddress().getHostAddress());

            assertEquals(4, server.send(bytes("pong"), from));
            ByteBuffer back = ByteBuffer.allocate(100);
            assertEquals(local(5353), client.receive(back));
            assertEquals("pong", text(back));
        }
    }

    @Test
    void aSendBindsAnEphemeralPortAndALongDatagramIsCut() throws Exception {
        try (DatagramChannel server = stack.channel(); DatagramChannel client = stack.channel()) {
            server.bind(local(7000));
            client.send(bytes("0123456789"), local(7000));
            assertNotNull(client.getLocalAddress(), "the send bound a port");
            ByteBuffer small = ByteBuffer.allocate(4);
            int clientPort = ((InetSocketAddress) client.getLocalAddress()).getPort();
            assertEquals(local(clientPort), server.receive(small), "from 127.0.0.1, the wildcard-bound sender's source");
            assertEquals("0123", text(small));
            server.configureBlocking(false);
            assertNull(server.receive(ByteBuffer.allocate(10)), "the rest of the datagram was discarded");
        }
    }

    @Test
    void aNonBlockingReceiveWithNothingQueuedReturnsNull() throws Exception {
        try (DatagramChannel server = stack.channel(); DatagramChannel client = stack.channel()) {
            server.bind(local(7001)).configureBlocking(false);
            assertFalse(server.isBlocking());
            assertNull(server.receive(ByteBuffer.allocate(10)));
            client.send(bytes("x"), local(7001));
            ByteBuffer in = ByteBuffer.allocate(10);
            assertNotNull(server.receive(in));
            assertEquals("x", text(in));
            assertNull(server.receive(ByteBuffer.allocate(10)));
        }
    }

    @Test
    void aReceiveBindsAnUnboundChannel() throws Exception {
        try (DatagramChannel ch = stack.channel()) {
            ch.configureBlocking(false);
            assertNull(ch.receive(ByteBuffer.allocate(10)));
            assertNotNull(ch.getLocalAddress(), "bound as if by bind(null)");
        }
    }

    @Test
    void aBlockingReceiveWaitsForTheDatagram() throws Exception {
        try (DatagramChannel server = stack.channel(); DatagramChannel client = stack.channel()) {
            server.bind(local(7002));
            CompletableFuture<String> got = CompletableFuture.supplyAsync(() -> {
                try {
                    ByteBuffer in = ByteBuffer.allocate(10);
                    server.receive(in);
                    return text(in);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(100);
            client.send(bytes("late"), local(7002));
            assertEquals("late", got.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void connectedChannelsReadAndWriteWithScatterAndGather() throws Exception {
        try (DatagramChannel a = stack.channel(); DatagramChannel b = stack.channel()) {
            a.bind(local(6001));
            b.bind(local(6002));
            a.connect(local(6002));
            b.connect(local(6001));
            assertTrue(a.isConnected());
            assertEquals(local(6002), a.getRemoteAddress());

            assertEquals(11, a.write(new ByteBuffer[] { bytes("hello"), bytes(" "), bytes("world") }));
            ByteBuffer first = ByteBuffer.allocate(3);
            ByteBuffer rest = ByteBuffer.allocate(20);
            assertEquals(11, b.read(new ByteBuffer[] { first, rest }));
            assertEquals("hel", text(first));
            assertEquals("lo world", text(rest));

            assertEquals(2, b.write(bytes("ok")));
            ByteBuffer in = ByteBuffer.allocate(10);
            assertEquals(2, a.read(in));
            assertEquals("ok", text(in));

            a.configureBlocking(false);
            assertEquals(0, a.read(ByteBuffer.allocate(10)), "nothing queued");
        }
    }

    @Test
    void aConnectedChannelSendsOnlyToItsPeer() throws Exception {
        try (DatagramChannel a = stack.channel(); DatagramChannel b = stack.channel()) {
            b.bind(local(6003));
            a.connect(local(6003));
            assertNotNull(a.getLocalAddress(), "connect bound a port");
            assertEquals(1, a.send(bytes("y"), local(6003)));
            assertThrows(AlreadyConnectedException.class, () -> a.send(bytes("n"), local(6004)));
            assertThrows(AlreadyConnectedException.class, () -> a.connect(local(6004)));
            assertThrows(AlreadyBoundException.class, () -> a.bind(null));
        }
    }

    @Test
    void disconnectKeepsTheLocalPort() throws Exception {
        try (DatagramChannel a = stack.channel(); DatagramChannel b = stack.channel()) {
            b.bind(local(6005));
            a.connect(local(6005));
            int port = ((InetSocketAddress) a.getLocalAddress()).getPort();
            a.disconnect();
            assertFalse(a.isConnected());
            assertNull(a.getRemoteAddress());
            assertEquals(port, ((InetSocketAddress) a.getLocalAddress()).getPort());
            a.disconnect(); // not connected: nothing happens
        }
    }

    @Test
    void readAndWriteNeedAConnection() throws Exception {
        try (DatagramChannel ch = stack.channel()) {
            assertFalse(ch.isConnected());
            assertThrows(NotYetConnectedException.class, () -> ch.read(ByteBuffer.allocate(1)));
            assertThrows(NotYetConnectedException.class, () -> ch.write(bytes("x")));
            assertThrows(NotYetConnectedException.class, () -> ch.read(new ByteBuffer[] { ByteBuffer.allocate(1) }));
        }
    }

    @Test
    void aDatagramToNobodyIsAPortUnreachableForAConnectedChannel() throws Exception {
        try (DatagramChannel ch = stack.channel()) {
            ch.connect(local(9));
            assertEquals(5, ch.write(bytes("hello")), "the send itself succeeds");
            assertThrows(PortUnreachableException.class, () -> ch.read(ByteBuffer.allocate(10)));
        }
    }

    @Test
    void bindErrorsAreBindExceptions() throws Exception {
        try (DatagramChannel a = stack.channel(); DatagramChannel b = stack.channel()) {
            a.bind(local(6100));
            BindException inUse = assertThrows(BindException.class, () -> b.bind(local(6100)));
            assertEquals("Address already in use", inUse.getMessage());
            BindException notLocal = assertThrows(BindException.class, () -> b.bind(new InetSocketAddress("10.9.9.9", 6101)));
            assertEquals("Cannot assign requested address", notLocal.getMessage());
            assertThrows(AlreadyBoundException.class, () -> a.bind(local(6102)));
            assertThrows(UnsupportedAddressTypeException.class, () -> b.bind(new InetSocketAddress("::1", 6103)));
            assertThrows(UnsupportedAddressTypeException.class, () -> b.bind(new SocketAddress() {
                private static final long serialVersionUID = 1L;
            }));
            assertTrue(b.isOpen(), "a failed bind leaves the channel open");
        }
    }

    @Test
    void aClosedChannelRefusesEverything() throws Exception {
        DatagramChannel ch = stack.channel();
        ch.bind(local(6200));
        Sock sock = ((ModnetDatagramChannel) ch).sock();
        ch.close();
        assertFalse(ch.isOpen());
        assertTrue(sock.isClosed(), "the socket layer closed the socket");
        assertTrue(stack.layer.sockets("").isEmpty(), "and forgot it");
        assertThrows(ClosedChannelException.class, () -> ch.receive(ByteBuffer.allocate(1)));
        assertThrows(ClosedChannelException.class, () -> ch.send(bytes("x"), local(1)));
        assertThrows(ClosedChannelException.class, () -> ch.bind(null));
        assertThrows(ClosedChannelException.class, () -> ch.connect(local(1)));
        assertThrows(ClosedChannelException.class, () -> ch.getLocalAddress());
        assertThrows(ClosedChannelException.class, () -> ch.getRemoteAddress());
        assertThrows(ClosedChannelException.class, () -> ch.getOption(StandardSocketOptions.SO_RCVBUF));
        assertFalse(ch.isConnected());
        ch.disconnect(); // closed: nothing happens
        ch.close(); // a second close is nothing
        try (DatagramChannel again = stack.channel()) {
            again.bind(local(6200)); // the port was released
        }
    }

    @Test
    void closingTheChannelWakesABlockedReceive() throws Exception {
        DatagramChannel ch = stack.channel();
        ch.bind(local(6201));
        CompletableFuture<SocketAddress> blocked = CompletableFuture.supplyAsync(() -> {
            try {
                return ch.receive(ByteBuffer.allocate(10));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(100);
        ch.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> blocked.get(10, TimeUnit.SECONDS));
        Throwable cause = e.getCause().getCause();
        assertInstanceOf(AsynchronousCloseException.class, cause, String.valueOf(cause));
    }

    @Test
    void anInterruptClosesTheChannelOfABlockedReceive() throws Exception {
        DatagramChannel ch = stack.channel();
        ch.bind(local(6202));
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                ch.receive(ByteBuffer.allocate(10));
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        t.start();
        Thread.sleep(100);
        t.interrupt();
        t.join(10_000);
        assertFalse(t.isAlive());
        assertInstanceOf(ClosedByInterruptException.class, thrown.get());
        assertFalse(ch.isOpen());
    }

    @Test
    void optionsAreTheSocketsOptions() throws Exception {
        try (DatagramChannel ch = stack.channel()) {
            assertEquals(6, ch.supportedOptions().size());
            ch.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
            assertEquals(8192, ch.getOption(StandardSocketOptions.SO_RCVBUF), "Linux doubles it");
            assertEquals(8192, ((ModnetDatagramChannel) ch).sock().rcvbuf());
            ch.setOption(StandardSocketOptions.SO_SNDBUF, 10000);
            assertEquals(20000, ch.getOption(StandardSocketOptions.SO_SNDBUF));
            ch.setOption(StandardSocketOptions.IP_TOS, 0x10);
            assertEquals(0x10, ch.getOption(StandardSocketOptions.IP_TOS));
            assertFalse(ch.getOption(StandardSocketOptions.SO_REUSEADDR));
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            assertTrue(ch.getOption(StandardSocketOptions.SO_REUSEADDR));
            assertTrue(((ModnetDatagramChannel) ch).sock().reuseAddr());
            ch.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            assertTrue(ch.getOption(StandardSocketOptions.SO_REUSEPORT));
            ch.setOption(StandardSocketOptions.SO_BROADCAST, true);
            assertTrue(ch.getOption(StandardSocketOptions.SO_BROADCAST));
            assertThrows(UnsupportedOperationException.class, () -> ch.setOption(StandardSocketOptions.IP_MULTICAST_TTL, 3));
            assertThrows(UnsupportedOperationException.class, () -> ch.getOption(StandardSocketOptions.TCP_NODELAY));
            assertThrows(IllegalArgumentException.class, () -> ch.setOption(StandardSocketOptions.IP_TOS, 256));
            assertThrows(IllegalArgumentException.class, () -> ch.setOption(StandardSocketOptions.SO_RCVBUF, -1));
        }
    }

    @Test
    void multicastIsRefusedClearly() throws Exception {
        try (DatagramChannel ch = stack.channel()) {
            SocketException e = assertThrows(SocketException.class,
                    () -> ch.join(java.net.InetAddress.getByName("239.1.1.1"), null));
            assertEquals("multicast is not supported yet", e.getMessage());
        }
    }

    @Test
    void theProviderMakesOnlyIpv4DatagramChannels() throws Exception {
        var provider = stack.provider();
        assertSame(provider, stack.layer.provider("init_net"), "one provider per namespace");
        try (DatagramChannel ch = provider.openDatagramChannel(StandardProtocolFamily.INET)) {
            assertSame(provider, ch.provider());
        }
        UnsupportedOperationException v6 = assertThrows(UnsupportedOperationException.class,
                () -> provider.openDatagramChannel(StandardProtocolFamily.INET6));
        assertTrue(v6.getMessage().contains("IPv6"), v6.getMessage());
        // no SOCK_STREAM protocol in this stack: socket() is ESOCKTNOSUPPORT, as Linux without TCP says
        java.net.SocketException tcp = assertThrows(java.net.SocketException.class, provider::openSocketChannel);
        assertEquals("Socket type not supported", tcp.getMessage());
        assertThrows(java.net.SocketException.class, provider::openServerSocketChannel);
        UnsupportedOperationException pipe = assertThrows(UnsupportedOperationException.class, provider::openPipe);
        assertTrue(pipe.getMessage().contains("pipes are not sockets"), pipe.getMessage());
    }

    @Test
    void withoutUdpTheProviderReportsTheErrno() {
        stack.layer.removeProtocol(stack.net);
        SocketException e = assertThrows(SocketException.class, () -> stack.channel());
        assertEquals("Address family not supported by protocol", e.getMessage());
    }

    @Test
    void theSocketViewIsTheSameSocket() throws Exception {
        try (DatagramChannel ch = stack.channel(); DatagramChannel peer = stack.channel()) {
            ch.bind(local(6300));
            peer.bind(local(6301));
            DatagramSocket s = ch.socket();
            assertSame(s, ch.socket());
            assertSame(ch, s.getChannel());
            assertTrue(s.isBound());
            assertEquals(6300, s.getLocalPort());
            assertEquals(local(6300), s.getLocalSocketAddress());

            s.send(new DatagramPacket("via socket".getBytes(), 10, local(6301)));
            ByteBuffer in = ByteBuffer.allocate(20);
            assertEquals(local(6300), peer.receive(in));
            assertEquals("via socket", text(in));

            peer.send(bytes("to channel"), local(6300));
            DatagramPacket p = new DatagramPacket(new byte[20], 20);
            s.receive(p);
            assertEquals("to channel", new String(p.getData(), 0, p.getLength()));
            assertEquals(local(6301), p.getSocketAddress());

            ch.connect(local(6301));
            assertTrue(s.isConnected());
            assertEquals(6301, s.getPort());
            s.send(new DatagramPacket("connected".getBytes(), 9)); // the peer's address comes from the connection
            ByteBuffer in2 = ByteBuffer.allocate(20);
            peer.receive(in2);
            assertEquals("connected", text(in2));

            ch.configureBlocking(false);
            assertThrows(java.nio.channels.IllegalBlockingModeException.class, () -> s.receive(new DatagramPacket(new byte[1], 1)));
            ch.configureBlocking(true);

            s.close();
            assertTrue(s.isClosed());
            assertFalse(ch.isOpen(), "closing the view closes the channel");
        }
    }
}
