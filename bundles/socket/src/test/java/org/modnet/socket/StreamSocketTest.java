package org.modnet.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.net.NetNamespace;
import org.modnet.core.StandaloneCore;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SocketProtocol;

/**
 * Java's stream sockets over the socket layer, with a test stream protocol in the socket switch: what
 * TCP will serve. Without a SOCK_STREAM protocol they refuse, as Linux without TCP does.
 */
class StreamSocketTest {
    private final StandaloneCore stack = StandaloneCore.manual(1, 64, System::nanoTime);
    private final SocketLayer layer = new SocketLayer(stack.core());
    private final Map<Integer, PipeStreamSock> listeners = PipeStreamSock.registry();
    private final SocketProtocol pipes = new SocketProtocol() {
        @Override
        public Sock create(NetNamespace ns) {
            return new PipeStreamSock(ns, listeners);
        }

        @Override
        public String name() {
            return "TCP";
        }

        @Override
        public long memoryPages(NetNamespace ns) {
            return 0;
        }
    };

    StreamSocketTest() {
        layer.init(stack.core().initNet());
    }

    @AfterEach
    void tearDown() {
        stack.shutdown();
    }

    private void addStreams() {
        layer.addProtocol(pipes, Map.of(SocketProtocol.FAMILY, 2, SocketProtocol.TYPE, 1, SocketProtocol.PROTOCOL, 6,
                SocketProtocol.DEFAULT, true));
    }

    @Test
    void withoutAStreamProtocolThereAreNoStreamSockets() throws Exception {
        addStreams();
        layer.removeProtocol(pipes);
        java.net.SocketException e = assertThrows(java.net.SocketException.class, () -> layer.socket("").connect(new InetSocketAddress("127.0.0.1", 80)));
        assertTrue(e.getMessage().contains("not supported"), e.getMessage());
    }

    @Test
    void streamsCarryBytesBothWaysAndEndWhenThePeerCloses() throws Exception {
        addStreams();
        try (ServerSocket server = layer.serverSocket("")) {
            server.bind(new InetSocketAddress("127.0.0.1", 8080));
            assertEquals(8080, server.getLocalPort());
            CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> {
                try (Socket s = server.accept(); DataInputStream in = new DataInputStream(s.getInputStream());
                        DataOutputStream out = new DataOutputStream(s.getOutputStream())) {
                    String question = in.readUTF();
                    out.writeUTF("answer to " + question);
                    out.flush();
                    return question + " / then " + in.read(); // -1: the client closed
                } catch (java.io.IOException e) {
                    return e.toString();
                }
            });
            try (Socket client = layer.socket("")) {
                client.connect(new InetSocketAddress("127.0.0.1", 8080), 5000);
                assertTrue(client.isConnected());
                assertEquals(8080, client.getPort());
                DataOutputStream out = new DataOutputStream(client.getOutputStream());
                out.writeUTF("life");
                DataInputStream in = new DataInputStream(client.getInputStream());
                assertEquals("answer to life", in.readUTF());
            }
            assertEquals("life / then -1", served.get(5, TimeUnit.SECONDS));
            assertEquals(1, layer.sockets("").size(), "the listener is left");
        }
        assertEquals(0, layer.sockets("").size());
    }

    @Test
    void refusedConnectionsAndTimeouts() throws Exception {
        addStreams();
        try (Socket client = layer.socket("")) {
            assertThrows(java.net.ConnectException.class, () -> client.connect(new InetSocketAddress("127.0.0.1", 9)));
        }
        try (ServerSocket server = layer.serverSocket("")) {
            server.bind(new InetSocketAddress(8081));
            server.setSoTimeout(50);
            assertThrows(java.net.SocketTimeoutException.class, server::accept);
            server.setSoTimeout(0);
            try (Socket client = layer.socket("")) {
                client.connect(new InetSocketAddress("127.0.0.1", 8081));
                try (Socket accepted = server.accept()) {
                    client.setSoTimeout(50);
                    assertThrows(java.net.SocketTimeoutException.class, () -> client.getInputStream().read());
                    accepted.getOutputStream().write(7);
                    assertEquals(1, client.getInputStream().available());
                    assertEquals(7, client.getInputStream().read());
                }
            }
        }
    }
}
