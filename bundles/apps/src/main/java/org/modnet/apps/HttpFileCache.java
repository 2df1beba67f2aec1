package org.modnet.apps;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;

/**
 * nginx's open_file_cache for httpd's plain GETs: a bounded table of files by request path, each with
 * its descriptor open and the header lines that follow from its metadata (Last-Modified,
 * Accept-Ranges, Content-Length, Content-Type) already as bytes, so a request for a known file opens,
 * stats and formats nothing. An entry is checked against the file system at most once a second
 * ({@link #VALID_NS}, nginx's open_file_cache_valid is 60 s): a file changed in between is served with
 * what it was for up to that second, as nginx's is.
 *
 * <p>A file of at most {@link #BODY_MAX} bytes is also kept in memory, read when its entry is made and
 * dropped with it (the same once-a-second check of size, time and inode stands for its content): its
 * answer is the header and these bytes, with no read of the file a request.
 *
 * <p>{@link #SIZE} entries, direct-mapped by a hash of the path; a new path takes its slot's place
 * (counted in httpd status's {@code FileCacheEvictions}). A descriptor in use by an answer still being written stays open until
 * that answer lets it go. One thread (httpd's loop) uses it.
 */
final class HttpFileCache {
    static final int SIZE = 64;
    static final long VALID_NS = 1_000_000_000L;
    /** The largest file whose bytes an entry keeps (a page). */
    static final int BODY_MAX = 4096;

    static final class Entry {
        final byte[] key;
        final Path file;
        final Object fileKey;
        final long size;
        final long mtime;
        final FileChannel channel;
        /** The header lines from Last-Modified to Content-Type, each CRLF-terminated. */
        final byte[] headers;
        /** The file's bytes, for a file of at most {@link #BODY_MAX}; else null (read from {@link #channel}). */
        final byte[] body;
        long checked;
        int users;
        boolean evicted;

        Entry(byte[] key, Path file, BasicFileAttributes a, FileChannel channel, byte[] headers, byte[] body, long now) {
            this.key = key;
            this.file = file;
            this.fileKey = a.fileKey();
            this.size = a.size();
            this.mtime = a.lastModifiedTime().toMillis();
            this.channel = channel;
            this.headers = headers;
            this.body = body;
            this.checked = now;
        }

        boolean same(BasicFileAttributes a) {
            return a.isRegularFile() && a.size() == size && a.lastModifiedTime().toMillis() == mtime
                    && java.util.Objects.equals(a.fileKey(), fileKey);
        }
    }

    private final HttpFiles files;
    private final Entry[] table = new Entry[SIZE];
    private final java.util.concurrent.atomic.AtomicLong evictions;

    HttpFileCache(HttpFiles files, java.util.concurrent.atomic.AtomicLong evictions) {
        this.files = files;
        this.evictions = evictions;
    }

    /**
     * The entry for the path {@code b[from, to)} (plain ASCII, as {@link HttpRequest#scan} lets through),
     * taken for an answer (give it back with {@link #release}); null when it is no readable regular file
     * under the root, which the ordinary answer then explains (403, 404, 301).
     */
    Entry acquire(byte[] b, int from, int to, long now) {
        int slot = hash(b, from, to) & (SIZE - 1);
        Entry e = table[slot];
        if (e != null && Arrays.equals(e.key, 0, e.key.length, b, from, to)) {
            if (now - e.checked <= VALID_NS) {
                e.users++;
                return e;
            }
            try {
                if (e.same(Files.readAttributes(e.file, BasicFileAttributes.class))) {
                    e.checked = now;
                    e.users++;
                    return e;
                }
            } catch (IOException x) {
                // gone: looked up again below
            }
        }
        Entry n = load(b, from, to, now);
        if (e != null) {
            boolean same = Arrays.equals(e.key, 0, e.key.length, b, from, to);
            if (n != null || same) { // a stale entry goes; another path's stays unless this one takes its slot
                table[slot] = null;
                if (!same) {
                    evictions.incrementAndGet();
                }
                drop(e);
            }
        }
        if (n == null) {
            return null;
        }
        table[slot] = n;
        n.users++;
        return n;
    }

    void release(Entry e) {
        if (--e.users == 0 && e.evicted) {
            close(e);
        }
    }

    /** Closes every descriptor not in use (httpd stops). */
    void clear() {
        for (int i = 0; i < SIZE; i++) {
            if (table[i] != null) {
                drop(table[i]);
                table[i] = null;
            }
        }
    }

    private static void drop(Entry e) {
        e.evicted = true;
        if (e.users == 0) {
            close(e);
        }
    }

    private static void close(Entry e) {
        try {
            e.channel.close();
        } catch (IOException x) {
            // closing: nothing to tell
        }
    }

    private Entry load(byte[] b, int from, int to, long now) {
        Path file = files.resolve(new String(b, from, to - from, StandardCharsets.ISO_8859_1));
        if (file == null) {
            return null;
        }
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            if (!a.isRegularFile() || !Files.isReadable(file)) {
                return null;
            }
            FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
            String h = "Last-Modified: " + HttpFiles.HTTP_DATE.format(a.lastModifiedTime().toInstant()) + "\r\n"
                    + "Accept-Ranges: bytes\r\n"
                    + "Content-Length: " + a.size() + "\r\n"
                    + "Content-Type: " + HttpFiles.contentType(file.getFileName().toString()) + "\r\n";
            return new Entry(Arrays.copyOfRange(b, from, to), file, a, ch, h.getBytes(StandardCharsets.ISO_8859_1), body(ch, a.size()), now);
        } catch (IOException | SecurityException x) {
            return null;
        }
    }

    /** The bytes of a small file as its metadata found it; null for a larger one, or one that changed size while read. */
    private static byte[] body(FileChannel ch, long size) throws IOException {
        if (size > BODY_MAX) {
            return null;
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) size + 1); // one more: a file grown since is seen
        while (ch.read(b, b.position()) > 0 && b.hasRemaining()) {
            // until the end of the file or one byte past the size
        }
        return b.position() == size ? Arrays.copyOf(b.array(), (int) size) : null;
    }

    private static int hash(byte[] b, int from, int to) {
        int h = 0;
        for (int i = from; i < to; i++) {
            h = 31 * h + b[i];
        }
        return h ^ (h >>> 16);
    }
}
