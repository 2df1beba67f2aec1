package org.modnet.apps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The open-file cache keeps a small file's bytes (at most a page): its answer needs no read of the file
 * a request. The bytes are the file's as its entry was made, checked again with its size, time and
 * inode at most once a second, as the descriptor and headers are.
 */
class HttpFileCacheTest {
    @TempDir
    Path root;
    private HttpFileCache cache;

    @BeforeEach
    void setUp() {
        cache = new HttpFileCache(new HttpFiles(root), new AtomicLong());
    }

    @AfterEach
    void tearDown() {
        cache.clear();
    }

    private HttpFileCache.Entry get(String path, long now) {
        byte[] b = path.getBytes(StandardCharsets.ISO_8859_1);
        HttpFileCache.Entry e = cache.acquire(b, 0, b.length, now);
        if (e != null) {
            cache.release(e);
        }
        return e;
    }

    @Test
    void aSmallFilesBytesAreKeptAndALargerOnesAreNot() throws Exception {
        Files.write(root.resolve("rr"), new byte[] { 'x' });
        Files.write(root.resolve("page"), new byte[HttpFileCache.BODY_MAX]);
        Files.write(root.resolve("big"), new byte[HttpFileCache.BODY_MAX + 1]);
        Files.write(root.resolve("empty"), new byte[0]);
        assertArrayEquals(new byte[] { 'x' }, get("/rr", 0).body);
        assertArrayEquals(new byte[HttpFileCache.BODY_MAX], get("/page", 0).body);
        assertArrayEquals(new byte[0], get("/empty", 0).body);
        HttpFileCache.Entry big = get("/big", 0);
        assertNotNull(big);
        assertNull(big.body, "read from its descriptor");
    }

    @Test
    void theBytesAreTheFilesAsItsEntryWasCheckedLast() throws Exception {
        Path f = root.resolve("rr");
        Files.write(f, "one".getBytes(StandardCharsets.US_ASCII));
        HttpFileCache.Entry first = get("/rr", 0);
        // rewritten in place within the entry's second: served as it was, as the headers are
        Files.write(f, "two!".getBytes(StandardCharsets.US_ASCII));
        assertSame(first, get("/rr", HttpFileCache.VALID_NS));
        assertArrayEquals("one".getBytes(StandardCharsets.US_ASCII), get("/rr", HttpFileCache.VALID_NS).body);
        // past it the size differs: a new entry with the new bytes
        assertArrayEquals("two!".getBytes(StandardCharsets.US_ASCII), get("/rr", 2 * HttpFileCache.VALID_NS + 1).body);
    }
}
