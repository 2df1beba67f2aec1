package org.modnet.socket;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.spi.SelectorProvider;
import java.nio.charset.StandardCharsets;

import org.modnet.core.StandaloneCore;

/**
 * A socket layer over a standalone core with {@link LoopSock} as its UDP: what the tests of the Java
 * adapters and the system calls run on.
 */
final class LoopStack implements AutoCloseable {
    final StandaloneCore stack = StandaloneCore.manual(1, 1024, System::nanoTime);
    final SocketLayer layer = new SocketLayer(stack.core());
    final LoopSock.Net net = new LoopSock.Net();

    LoopStack() {
        layer.init(stack.core().initNet());
        layer.addProtocol(net, LoopSock.Net.udpProperties());
    }

    SelectorProvider provider() {
        return layer.provider("");
    }

    DatagramChannel channel() throws java.io.IOException {
        return provider().openDatagramChannel();
    }

    static InetSocketAddress local(int port) {
        return new InetSocketAddress("127.0.0.1", port);
    }

    static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    /** The bytes between position 0 and the position, as text (a buffer just received into). */
    static String text(ByteBuffer b) {
        return new String(b.array(), b.arrayOffset(), b.position(), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        layer.deactivate();
        stack.shutdown();
    }
}
