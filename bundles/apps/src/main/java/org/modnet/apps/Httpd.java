package org.modnet.apps;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Iterator;
import java.util.concurrent.atomic.AtomicLong;

/**
 * httpd's event loop: one thread, one {@link Selector} on modnet sockets, every connection a small
 * state machine (read a request head, write the answer, then the next request on the same connection
 * or close), as nginx's and Apache event MPM's workers run. A connection reads no new request while an
 * answer is still being written, so pipelined requests wait in the socket's receive queue and a
 * client cannot make httpd buffer more than one head and one 64 KiB file chunk per connection.
 *
 * <p>Bounds, each with a counter: {@link #MAX_CONNECTIONS} at once (more are closed at accept, counted
 * in {@code refused}); a head of at most {@link #HEAD_BUFFER} bytes (larger: 431, counted in {@code bad});
 * {@link #KEEPALIVE_TIMEOUT_NS} idle between requests and {@link #TIMEOUT_NS} for a head to arrive or
 * an answer to drain (Apache's KeepAliveTimeout 5 and Timeout 60), counted in {@code timeouts}.
 *
 * <p>A request's body (Content-Length or chunked) is read and dropped before the answer, as Apache's
 * ap_discard_request_body does, so the next request on the connection parses; at most
 * {@link HttpRequest#LIMIT_REQUEST_BODY} of it (more: 413 and close, counted in {@code bad}). A client
 * that sent {@code Expect: 100-continue} gets its 100 first.
 */
final class Httpd {
    static final int MAX_CONNECTIONS = 1024;
    static final int HEAD_BUFFER = 65536;
    static final int CHUNK = 65536;
    /** Apache's ListenBacklog (TCP caps it at net.core.somaxconn). */
    static final int BACKLOG = 511;
    static final long KEEPALIVE_TIMEOUT_NS = 5_000_000_000L;
    static final long TIMEOUT_NS = 60_000_000_000L;
    /** Apache's lingering close: after our FIN, what the client still sends is read and dropped for up to 2 s. */
    static final long LINGER_NS = 2_000_000_000L;
    private static final byte[] CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /** The Common Log Format's time: [10/Oct/2000:13:55:36 +0000]. */
    private static final java.time.format.DateTimeFormatter CLF_TIME = java.time.format.DateTimeFormatter
            .ofPattern("dd/MMM/yyyy:HH:mm:ss Z", java.util.Locale.US).withZone(java.time.ZoneOffset.UTC);

    /** What {@code httpd status} prints: mod_status's machine-readable names where it has them. */
    static final class Stats {
        final AtomicLong accesses = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();
        final AtomicLong connections = new AtomicLong();
        final AtomicLong open = new AtomicLong();
        final AtomicLong refused = new AtomicLong();
        final AtomicLong bad = new AtomicLong();
        final AtomicLong timeouts = new AtomicLong();
        final AtomicLong resets = new AtomicLong();
    }

    private final SelectorProvider provider;
    private final HttpFiles files;
    private final int port;
    private final PrintStream log;
    final Stats stats = new Stats();
    private volatile boolean stopping;
    private volatile Selector selector;

    /** @param log where {@code -v} writes one Common Log Format line per request; null for none */
    Httpd(SelectorProvider provider, HttpFiles files, int port, PrintStream log) {
        this.provider = provider;
        this.files = files;
        this.port = port;
        this.log = log;
    }

    int port() {
        return port;
    }

    HttpFiles files() {
        return files;
    }

    /** Ends {@link #serve} from another thread (httpd stop). */
    void stop() {
        stopping = true;
        Selector s = selector;
        if (s != null) {
            s.wakeup();
        }
    }

    /** Binds the port; throws with the bind's error (in use, permission). */
    ServerSocketChannel bind() throws IOException {
        ServerSocketChannel server = provider.openServerSocketChannel();
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(new InetSocketAddress("0.0.0.0", port), BACKLOG);
            server.configureBlocking(false);
            return server;
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /** Serves until {@link #stop} or an interrupt (Ctrl-C); closes every connection and the listener. */
    void serve(ServerSocketChannel server) throws IOException {
        try (Selector sel = provider.openSelector()) {
            selector = sel;
            server.register(sel, SelectionKey.OP_ACCEPT);
            long lastSweep = System.nanoTime();
            while (!stopping && !Thread.currentThread().isInterrupted()) {
                sel.select(250);
                Iterator<SelectionKey> it = sel.selectedKeys().iterator();
                while (it.hasNext()) {
                    SelectionKey k = it.next();
                    it.remove();
                    if (!k.isValid()) {
                        continue;
                    }
                    if (k.isAcceptable()) {
                        accept(server, sel);
                        continue;
                    }
                    Connection c = (Connection) k.attachment();
                    try {
                        if (k.isWritable()) {
                            c.write();
                        } else if (k.isReadable()) {
                            c.read();
                        }
                    } catch (IOException e) {
                        stats.resets.incrementAndGet(); // a reset or a broken pipe: that client is gone
                        c.close();
                    }
                }
                long now = System.nanoTime();
                if (now - lastSweep > 1_000_000_000L) {
                    lastSweep = now;
                    for (SelectionKey k : sel.keys()) {
                        if (k.attachment() instanceof Connection c && c.expired(now)) {
                            if (!c.lingering) {
                                stats.timeouts.incrementAndGet(); // a lingering close that ends by time is no timeout
                            }
                            c.close();
                        }
                    }
                }
            }
            for (SelectionKey k : sel.keys()) {
                if (k.attachment() instanceof Connection c) {
                    c.close();
                }
            }
        } finally {
            selector = null;
            server.close();
        }
    }

    private void accept(ServerSocketChannel server, Selector sel) throws IOException {
        SocketChannel ch;
        while ((ch = server.accept()) != null) {
            if (stats.open.get() >= MAX_CONNECTIONS) {
                stats.refused.incrementAndGet();
                ch.close();
                continue;
            }
            stats.connections.incrementAndGet();
            stats.open.incrementAndGet();
            ch.configureBlocking(false);
            // the head and the body go in separate writes: with Nagle a small body would wait for the
            // ACK of the head, which the client delays (40 ms a keep-alive request); nginx sets it too
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            Connection c = new Connection(ch);
            c.key = ch.register(sel, SelectionKey.OP_READ, c);
        }
    }

    /** One client connection: its unparsed bytes and the answer being written. */
    private final class Connection {
        final SocketChannel ch;
        SelectionKey key;
        byte[] in = new byte[8192]; // grows to HEAD_BUFFER for a long head
        int inLen;
        ByteBuffer head;
        FileChannel file;
        long filePos;
        long fileLeft;
        ByteBuffer chunk;
        /** A request whose body is being read and dropped; answered when the body has all come. */
        HttpRequest pending;
        long bodyLeft;
        HttpChunkedBody chunks;
        boolean closeAfter;
        boolean answering;
        boolean lingering;
        long since = System.nanoTime();
        boolean closed;

        Connection(SocketChannel ch) {
            this.ch = ch;
        }

        boolean expired(long now) {
            long limit = lingering ? LINGER_NS : answering || inLen > 0 || pending != null ? TIMEOUT_NS : KEEPALIVE_TIMEOUT_NS;
            return now - since > limit;
        }

        void read() throws IOException {
            if (lingering) {
                // unread bytes at close would make TCP send a reset that can overtake our answer
                // (RFC 9112 9.6): they are read and dropped until the client's FIN
                if (ch.read(ByteBuffer.wrap(in)) < 0) {
                    close();
                }
                return;
            }
            if (inLen == in.length && in.length < HEAD_BUFFER) {
                in = java.util.Arrays.copyOf(in, Math.min(HEAD_BUFFER, in.length * 2));
            }
            int n = ch.read(ByteBuffer.wrap(in, inLen, in.length - inLen));
            if (n < 0) {
                close(); // the client closed: whatever it half-sent has no answer to wait for
                return;
            }
            if (n > 0) {
                inLen += n;
                since = System.nanoTime();
            }
            next();
        }

        /** Parses the next request from what has arrived and starts its answer, if there is a whole head. */
        void next() throws IOException {
            if (answering || closed || (inLen == 0 && pending == null)) {
                return;
            }
            HttpFiles.Response r;
            HttpRequest req = pending;
            int refused = 0;
            if (req == null) {
                HttpRequest.Parsed p = HttpRequest.parse(in, 0, inLen);
                if (p.complete()) {
                    req = p.request();
                    drop(p.consumed());
                    pending = req;
                    bodyLeft = req.contentLength();
                    chunks = req.chunked() ? new HttpChunkedBody(HttpRequest.LIMIT_REQUEST_BODY) : null;
                    if (req.expectsContinue() && (bodyLeft > 0 || chunks != null)) {
                        // a 25-byte write on a connection with nothing else queued: it fits in the send buffer
                        ch.write(ByteBuffer.wrap(CONTINUE));
                    }
                } else if (p.status() != 0 || inLen == HEAD_BUFFER) {
                    refused = p.status() != 0 ? p.status() : 431;
                } else {
                    return; // more of the head is on its way
                }
            }
            if (refused == 0) {
                refused = discardBody();
                if (refused < 0) {
                    return; // more of the body is on its way
                }
                pending = null;
            }
            if (refused == 0) {
                r = files.respond(req, Instant.now());
            } else {
                stats.bad.incrementAndGet();
                r = files.refusal(refused, Instant.now());
                inLen = 0;
                key.interestOps(0);
            }
            stats.accesses.incrementAndGet();
            if (log != null) {
                log.println(commonLog(req, r));
            }
            start(r);
        }

        /** Reads and drops what has come of the pending request's body: 0 when it has all come, -1 for more, or a refusal. */
        private int discardBody() {
            if (chunks != null) {
                drop(chunks.consume(in, 0, inLen));
                if (chunks.status() != 0) {
                    return chunks.status();
                }
                if (!chunks.done()) {
                    return -1;
                }
                chunks = null;
                return 0;
            }
            int n = (int) Math.min(bodyLeft, inLen);
            drop(n);
            bodyLeft -= n;
            return bodyLeft > 0 ? -1 : 0;
        }

        private void drop(int n) {
            System.arraycopy(in, n, in, 0, inLen - n);
            inLen -= n;
        }

        private String commonLog(HttpRequest req, HttpFiles.Response r) {
            String client = "-";
            try {
                client = ((InetSocketAddress) ch.getRemoteAddress()).getAddress().getHostAddress();
            } catch (IOException | RuntimeException e) {
                // gone already
            }
            String line = req == null ? "-" : req.method() + " " + req.target() + " HTTP/1." + req.minor();
            return client + " - - [" + CLF_TIME.format(Instant.now()) + "] \"" + line + "\" " + r.status() + " "
                    + (r.head() ? "-" : Long.toString(r.bodyLength()));
        }

        private void start(HttpFiles.Response r) throws IOException {
            answering = true;
            closeAfter = r.close();
            byte[] h = r.headBytes();
            if (r.body() != null && !r.head()) {
                head = ByteBuffer.allocate(h.length + r.body().length).put(h).put(r.body()).flip();
            } else {
                head = ByteBuffer.wrap(h);
            }
            if (r.file() != null && !r.head() && r.length() > 0) {
                try {
                    file = FileChannel.open(r.file(), StandardOpenOption.READ);
                } catch (IOException e) {
                    // the file went between the answer and now: the head is sent, the connection closes short
                    closeAfter = true;
                    file = null;
                }
                filePos = r.offset();
                fileLeft = r.length();
            }
            since = System.nanoTime();
            write();
        }

        void write() throws IOException {
            if (head != null) {
                ch.write(head);
                if (head.hasRemaining()) {
                    want(SelectionKey.OP_WRITE);
                    return;
                }
                stats.bytes.addAndGet(head.limit());
                head = null;
            }
            while (file != null && fileLeft > 0) {
                if (chunk == null) {
                    // no larger than the answer: a small file on a keep-alive connection is not a CHUNK of garbage a request
                    chunk = ByteBuffer.allocate((int) Math.min(CHUNK, fileLeft));
                    chunk.limit(0);
                }
                if (!chunk.hasRemaining()) {
                    chunk.clear();
                    chunk.limit((int) Math.min(chunk.capacity(), fileLeft));
                    int n = file.read(chunk, filePos);
                    if (n <= 0) {
                        closeAfter = true; // the file shrank under us: the client sees a short body and the close
                        break;
                    }
                    chunk.flip();
                }
                int w = ch.write(chunk);
                filePos += w;
                fileLeft -= w;
                stats.bytes.addAndGet(w);
                if (chunk.hasRemaining()) {
                    since = System.nanoTime();
                    want(SelectionKey.OP_WRITE);
                    return;
                }
            }
            finish();
        }

        private void finish() throws IOException {
            if (file != null) {
                file.close();
                file = null;
            }
            chunk = null; // an idle keep-alive connection holds no chunk
            answering = false;
            if (closeAfter) {
                ch.shutdownOutput();
                lingering = true;
                inLen = 0;
                since = System.nanoTime();
                want(SelectionKey.OP_READ);
                return;
            }
            since = System.nanoTime();
            want(SelectionKey.OP_READ);
            next(); // a pipelined request already here
        }

        private void want(int ops) {
            if (key.isValid() && key.interestOps() != ops) {
                key.interestOps(ops);
            }
        }

        void close() {
            if (closed) {
                return;
            }
            closed = true;
            stats.open.decrementAndGet();
            key.cancel();
            try {
                if (file != null) {
                    file.close();
                }
                ch.close();
            } catch (IOException e) {
                // closing: nothing left to tell
            }
        }
    }
}
