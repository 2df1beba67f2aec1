package org.modnet.tcp;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * An echo server and client written against the JDK's java.nio API only, as any application would
 * write them: nothing here knows modnet, the provider is all that is handed in (the host's
 * {@code SelectorProvider.provider()} runs them on the host's sockets unchanged).
 */
final class NioEcho {
    /** A thread per task: the tasks block, and must not wait for a pool's free thread. */
    static final java.util.concurrent.Executor THREADS = r -> Thread.ofPlatform().daemon().start(r);

    private NioEcho() {
    }

    /** A Selector-driven echo server: accepts, reads, writes back what it read; a client's EOF closes it. */
    static final class Server implements Runnable, AutoCloseable {
        private final Selector selector;
        private final ServerSocketChannel server;
        private volatile boolean running = true;
        volatile int accepted;
        volatile long echoed;
        volatile Throwable failure;

        Server(SelectorProvider provider, InetSocketAddress at) throws IOException {
            selector = provider.openSelector();
            server = provider.openServerSocketChannel();
            server.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(at, 16);
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
        }

        InetSocketAddress address() throws IOException {
            return (InetSocketAddress) server.getLocalAddress();
        }

        @Override
        public void run() {
            try {
                while (running) {
                    selector.select(100);
                    Iterator<SelectionKey> it = selector.selectedKeys().iterator();
                    while (it.hasNext()) {
                        SelectionKey k = it.next();
                        it.remove();
                        if (!k.isValid()) {
                            continue;
                        }
                        if (k.isAcceptable()) {
                            SocketChannel c = ((ServerSocketChannel) k.channel()).accept();
                            if (c != null) {
                                accepted++;
                                c.configureBlocking(false);
                                c.register(selector, SelectionKey.OP_READ, new ArrayDeque<ByteBuffer>());
                            }
                            continue;
                        }
                        SocketChannel c = (SocketChannel) k.channel();
                        @SuppressWarnings("unchecked")
                        ArrayDeque<ByteBuffer> pending = (ArrayDeque<ByteBuffer>) k.attachment();
                        if (k.isReadable()) {
                            ByteBuffer b = ByteBuffer.allocate(8192);
                            int n = c.read(b);
                            if (n < 0) {
                                c.close();
                                continue;
                            }
                            b.flip();
                            if (b.hasRemaining()) {
                                pending.add(b);
                            }
                        }
                        while (!pending.isEmpty()) {
                            ByteBuffer head = pending.peek();
                            echoed += c.write(head);
                            if (head.hasRemaining()) {
                                break;
                            }
                            pending.poll();
                        }
                        // stop reading while the peer does not take what we owe it: backpressure
                        k.interestOps(pending.isEmpty() ? SelectionKey.OP_READ : SelectionKey.OP_WRITE);
                    }
                }
            } catch (Throwable t) {
                failure = t;
            }
        }

        @Override
        public void close() throws IOException {
            if (!selector.isOpen()) {
                return;
            }
            running = false;
            selector.wakeup();
            for (SelectionKey k : selector.keys()) {
                k.channel().close();
            }
            selector.close();
            server.close();
        }
    }

    /** A blocking client: sends {@code data}, half-closes, reads the echo to the end of the stream. */
    static byte[] blockingClient(SelectorProvider provider, InetSocketAddress server, byte[] data) throws Exception {
        try (SocketChannel c = provider.openSocketChannel()) {
            c.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
            c.connect(server);
            java.util.concurrent.CompletableFuture<Void> writer = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    ByteBuffer out = ByteBuffer.wrap(data);
                    while (out.hasRemaining()) {
                        c.write(out);
                    }
                    c.shutdownOutput();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, THREADS);
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            ByteBuffer in = ByteBuffer.allocate(8192);
            while (c.read(in) >= 0) {
                got.write(in.array(), 0, in.position());
                in.clear();
            }
            writer.join();
            return got.toByteArray();
        }
    }

    /**
     * A non-blocking client on a selector of its own: OP_CONNECT then finishConnect, OP_WRITE while
     * data is left (then shutdownOutput), OP_READ until the end of the stream.
     */
    static byte[] selectorClient(SelectorProvider provider, InetSocketAddress server, byte[] data) throws Exception {
        try (Selector selector = provider.openSelector(); SocketChannel c = provider.openSocketChannel()) {
            c.configureBlocking(false);
            boolean now = c.connect(server);
            SelectionKey key = c.register(selector, now ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_CONNECT);
            ByteBuffer out = ByteBuffer.wrap(data);
            ByteBuffer in = ByteBuffer.allocate(8192);
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (System.nanoTime() < deadline) {
                selector.select(200);
                for (SelectionKey k : selector.selectedKeys()) {
                    if (k.isConnectable() && c.finishConnect()) {
                        k.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                    }
                    if (k.isValid() && k.isWritable() && out.hasRemaining()) {
                        c.write(out);
                        if (!out.hasRemaining()) {
                            c.shutdownOutput();
                            k.interestOps(SelectionKey.OP_READ);
                        }
                    }
                    if (k.isValid() && k.isReadable()) {
                        int n = c.read(in);
                        if (n < 0) {
                            return got.toByteArray();
                        }
                        got.write(in.array(), 0, in.position());
                        in.clear();
                    }
                }
                selector.selectedKeys().clear();
            }
            throw new IllegalStateException("no end of the echo in 30 s; got " + got.size() + " of " + data.length + ", key " + key);
        }
    }
}
