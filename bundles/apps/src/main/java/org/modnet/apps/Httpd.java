package org.modnet.apps;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
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
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

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
        /** Files the open-file cache let go for another path taking their slot ({@link HttpFileCache}). */
        final AtomicLong cacheEvictions = new AtomicLong();
    }

    private final SelectorProvider provider;
    private final HttpFiles files;
    private final int port;
    private final PrintStream log;
    final Stats stats = new Stats();
    private volatile boolean stopping;
    private volatile Selector selector;
    /** The listening socket {@link #serve} was given, for {@link #ready}. */
    private ServerSocketChannel listener;
    /** {@link #ready} as the selection's action, made once. */
    private final Consumer<SelectionKey> onReady = this::ready;
    /** The loop's own: the plain request being answered, the known files, the Date line, the answer's bytes. */
    private final HttpRequest.Plain plain = new HttpRequest.Plain();
    private final HttpFileCache cache;
    private long dateSecond = Long.MIN_VALUE;
    private byte[] dateLine;
    /** Where every answer's head (and its file's first chunk) is put together; a connection keeps a copy only of what the socket did not take. */
    private final ByteBuffer scratch = ByteBuffer.allocate(CHUNK);
    private static final byte[] STATUS_200 = ascii("HTTP/1.1 200 OK\r\n");
    private static final byte[] SERVER_LINE = ascii("Server: " + HttpFiles.SERVER + "\r\n");
    private static final byte[] CLOSE_LINE = ascii("Connection: close\r\n");
    private static final byte[] KEEPALIVE_LINE = ascii("Connection: keep-alive\r\n");
    private static final byte[] CRLF = ascii("\r\n");

    /** @param log where {@code -v} writes one Common Log Format line per request; null for none */
    Httpd(SelectorProvider provider, HttpFiles files, int port, PrintStream log) {
        this.provider = provider;
        this.files = files;
        this.port = port;
        this.log = log;
        this.cache = new HttpFileCache(files, stats.cacheEvictions);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** The Date header line, formatted once a second as nginx's ngx_time_update does. */
    private byte[] dateLine() {
        long sec = System.currentTimeMillis() / 1000;
        if (sec != dateSecond) {
            dateLine = ascii("Date: " + HttpFiles.HTTP_DATE.format(Instant.ofEpochSecond(sec)) + "\r\n");
            dateSecond = sec;
        }
        return dateLine;
    }

    int port() {
        return port;
    }

    HttpFiles files() {
        return files;
    }

    /** EPIOCSPARAMS for the selector {@link #serve} opens: busy poll microseconds (0: the sysctl's), budget, preferred. */
    private long busyPollUsecs;
    private int busyPollBudget;
    private boolean preferBusyPoll;

    void busyPoll(long usecs, int budget, boolean prefer) {
        busyPollUsecs = usecs;
        busyPollBudget = budget;
        preferBusyPoll = prefer;
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
            if ((busyPollUsecs > 0 || busyPollBudget > 0 || preferBusyPoll) && sel instanceof org.modnet.socket.api.EpollParams ep) {
                try {
                    ep.setEpollParams(busyPollUsecs, busyPollBudget, preferBusyPoll ? 1 : 0); // ioctl(epfd, EPIOCSPARAMS, ...)
                } catch (org.modnet.socket.api.SockException e) {
                    throw new IOException("EPIOCSPARAMS: " + e.getMessage(), e);
                }
            }
            selector = sel;
            server.register(sel, SelectionKey.OP_ACCEPT);
            long lastSweep = System.nanoTime();
            listener = server;
            while (!stopping && !Thread.currentThread().isInterrupted()) {
                try {
                    sel.select(onReady, 250); // no selected-key set: nothing allocated per wake-up
                } catch (UncheckedIOException e) {
                    throw e.getCause(); // the listener's accept failed
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
            cache.clear();
            server.close();
        }
    }

    /** One ready key of the loop's selection. */
    private void ready(SelectionKey k) {
        if (!k.isValid()) {
            return;
        }
        if (k.isAcceptable()) {
            try {
                accept(listener, k.selector());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return;
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
        ByteBuffer inBuf = ByteBuffer.wrap(in);
        int inLen;
        /** What is ready to send and not yet sent: the loop's scratch, or this connection's copy of it when the socket is full. */
        ByteBuffer out;
        FileChannel file;
        /** The cache's entry whose descriptor {@link #file} is (not closed here), or null for a file of this answer's own. */
        HttpFileCache.Entry cached;
        ByteBuffer spill;
        long filePos;
        long fileLeft;
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
                inBuf.clear();
                if (ch.read(inBuf) < 0) {
                    close();
                }
                return;
            }
            if (inLen == in.length && in.length < HEAD_BUFFER) {
                in = java.util.Arrays.copyOf(in, Math.min(HEAD_BUFFER, in.length * 2));
                inBuf = ByteBuffer.wrap(in);
            }
            inBuf.limit(in.length).position(inLen);
            int n = ch.read(inBuf);
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
            if (req == null && log == null && plain()) {
                return;
            }
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

        /**
         * The answer to a plain GET or HEAD of a known file (see {@link HttpRequest#scan}), with nothing
         * allocated: false for any other request, which {@link #next} answers the ordinary way.
         */
        private boolean plain() throws IOException {
            HttpRequest.Plain q = plain;
            int consumed = HttpRequest.scan(in, inLen, q);
            if (consumed == 0) {
                return false;
            }
            HttpFileCache.Entry e = cache.acquire(in, q.pathFrom, q.pathTo, System.nanoTime());
            if (e == null) {
                return false;
            }
            drop(consumed);
            stats.accesses.incrementAndGet();
            answering = true;
            closeAfter = q.close;
            ByteBuffer b = scratch.clear();
            b.put(STATUS_200).put(dateLine()).put(SERVER_LINE).put(e.headers);
            if (q.close) {
                b.put(CLOSE_LINE);
            } else if (q.minor == 0) {
                b.put(KEEPALIVE_LINE); // a 1.0 client that asked for it is told it has it
            }
            b.put(CRLF);
            if (!q.head && e.body != null && e.body.length <= b.remaining()) {
                b.put(e.body); // a small file's bytes from the cache: no read of the file
                cache.release(e);
            } else if (!q.head && e.size > 0) {
                cached = e;
                file = e.channel;
                filePos = 0;
                fileLeft = e.size;
                fill(b);
            } else {
                cache.release(e);
            }
            out = b.flip();
            since = System.nanoTime();
            write();
            return true;
        }

        /** Reads the next of the file into the rest of {@code b} (in fill mode). */
        private void fill(ByteBuffer b) throws IOException {
            int room = (int) Math.min(b.remaining(), fileLeft);
            if (room == 0) {
                return;
            }
            int lim = b.limit();
            b.limit(b.position() + room);
            int n = file.read(b, filePos);
            b.limit(lim);
            if (n <= 0) {
                closeAfter = true; // the file shrank under us: the client sees a short body and the close
                fileLeft = 0;
                return;
            }
            filePos += n;
            fileLeft -= n;
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
            byte[] body = r.body() != null && !r.head() ? r.body() : null;
            int n = h.length + (body != null ? body.length : 0);
            ByteBuffer b = n <= scratch.capacity() ? scratch.clear() : ByteBuffer.allocate(n);
            b.put(h);
            if (body != null) {
                b.put(body);
            }
            if (r.file() != null && !r.head() && r.length() > 0) {
                try {
                    file = FileChannel.open(r.file(), StandardOpenOption.READ);
                    filePos = r.offset();
                    fileLeft = r.length();
                    if (b == scratch) {
                        fill(b); // the head and the first of the file in one segment
                    }
                } catch (IOException e) {
                    // the file went between the answer and now: the head is sent, the connection closes short
                    closeAfter = true;
                    file = null;
                    fileLeft = 0;
                }
            }
            out = b.flip();
            since = System.nanoTime();
            write();
        }

        void write() throws IOException {
            while (true) {
                if (out != null) {
                    int w = ch.write(out);
                    stats.bytes.addAndGet(w);
                    if (out.hasRemaining()) {
                        if (out == scratch) {
                            // the loop's scratch is the next answer's: what the socket did not take is kept here
                            // (one buffer for the whole answer, dropped at its end: an idle connection holds none)
                            if (spill == null || spill.capacity() < out.remaining()) {
                                spill = ByteBuffer.allocate(fileLeft > 0 ? CHUNK : out.remaining());
                            }
                            out = spill.clear().put(out).flip();
                        }
                        since = System.nanoTime();
                        want(SelectionKey.OP_WRITE);
                        return;
                    }
                    out = null;
                }
                if (file == null || fileLeft <= 0) {
                    break;
                }
                ByteBuffer b = scratch.clear();
                fill(b);
                if (b.position() == 0) {
                    break;
                }
                out = b.flip();
            }
            finish();
        }

        private void finish() throws IOException {
            closeFile();
            out = null;
            spill = null;
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

        private void closeFile() throws IOException {
            if (cached != null) {
                cache.release(cached);
                cached = null;
            } else if (file != null) {
                file.close();
            }
            file = null;
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
                closeFile();
                ch.close();
            } catch (IOException e) {
                // closing: nothing left to tell
            }
        }
    }
}
