package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.modnet.core.StandaloneCore;

/** java.net.Socket and ServerSocket of the socket layer over modnet's TCP, on softirq threads of their own. */
class TcpJavaSocketTest {
    @Test
    void javaSocketsTalkOverModnetTcp() throws Exception {
        try (TcpStack s = new TcpStack(StandaloneCore.threaded(1, 4096)); ServerSocket server = s.sockets.serverSocket("")) {
            server.bind(new InetSocketAddress("127.0.0.1", 8080));
            CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> {
                try (Socket c = server.accept(); DataInputStream in = new DataInputStream(c.getInputStream());
                        DataOutputStream out = new DataOutputStream(c.getOutputStream())) {
                    String question = in.readUTF();
                    byte[] bulk = new byte[200_000];
                    in.readFully(bulk);
                    out.writeUTF("answer to " + question + " after " + bulk.length);
                    out.flush();
                    return question + " / then " + in.read();
                } catch (java.io.IOException e) {
                    return e.toString();
                }
            });
            try (Socket client = s.sockets.socket("")) {
                client.connect(new InetSocketAddress("127.0.0.1", 8080), 5000);
                DataOutputStream out = new DataOutputStream(client.getOutputStream());
                out.writeUTF("life");
                out.write(new byte[200_000]);
                out.flush();
                DataInputStream in = new DataInputStream(client.getInputStream());
                assertEquals("answer to life after 200000", in.readUTF());
            }
            assertEquals("life / then -1", served.get(10, TimeUnit.SECONDS));
            try (Socket refused = s.sockets.socket("")) {
                assertThrows(java.net.ConnectException.class, () -> refused.connect(new InetSocketAddress("127.0.0.1", 9)));
            }
        }
    }
}
