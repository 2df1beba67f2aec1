package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.modnet.tcp.TcpPeer.PEER_ISS;

import java.nio.ByteBuffer;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code tcp_cleanup_rbuf}'s window update after a read: sent only when the window announced had
 * fallen to half of the largest the socket can announce or less and the read at least doubles it;
 * a read that leaves a wide window open sends nothing (the next ACK carries the new edge).
 */
class TcpWindowUpdateTest {
    private static final int PORT = 5000;
    private static final int P = PEER_ISS + 1;

    private TcpPeer p;
    private int fd;
    private int seq = P;

    @BeforeEach
    void setUp() throws Exception {
        p = new TcpPeer();
        int l = p.listen(PORT);
        fd = p.accept(l, PORT, Segments.mss(1000), new byte[0], null); // no window scaling: the field is the window
    }

    @AfterEach
    void tearDown() {
        p.close();
    }

    /**
     * One full segment from the peer, then 250 ms; the window of the last segment the stack sent back, or
     * -1 if none. Past quick-ACK mode, a receiver whose reader takes nothing sends no ACK at once while
     * its window's right edge cannot move ({@code __tcp_ack_snd_check}); the delayed ACK carries it.
     */
    private int segment() {
        p.in(PORT, TcpHeader.ACK, seq, p.iss + 1, 65535, new byte[0], 1000);
        p.s.advance(250, 10);
        seq += 1000;
        int win = -1;
        for (TcpPeer.Seg s : p.drain()) {
            win = s.win();
        }
        return win;
    }

    private int read(int len) {
        return p.sys.recv(fd, ByteBuffer.allocate(len), 0);
    }

    @Test
    void aReadThatLeavesTheWindowWideOpenSendsNoWindowUpdate() {
        int win = -1;
        for (int i = 0; i < 4; i++) {
            win = Math.max(win, segment());
        }
        assertTrue(win > 0, "the data was acknowledged with a window");
        assertEquals(3000, read(3000));
        List<TcpPeer.Seg> after = p.drain();
        assertTrue(after.isEmpty(), "no window update for a window still above half its largest: " + after);
    }

    @Test
    void aReadThatMoreThanDoublesAWindowDownToHalfItsLargestAnnouncesIt() {
        int first = segment();
        int win = first;
        // down past half the first, far enough that the free buffer's window (its clamp, 56832 at a
        // 1000-byte segment's ratio in a 2304-byte skb) is at least twice what is announced
        for (int i = 0; i < 200 && win > first / 3; i++) {
            int w = segment();
            win = w < 0 ? win : w;
        }
        assertTrue(win <= first / 3, "the window fell to a third: " + first + " then " + win);
        int queued = seq - P;
        assertEquals(queued, read(queued));
        List<TcpPeer.Seg> after = p.drain();
        assertEquals(1, after.size(), "one window update: " + after);
        assertEquals(TcpHeader.ACK, after.get(0).flags());
        assertTrue(after.get(0).win() >= 2 * win, "the window reopened: " + win + " then " + after.get(0).win());
    }

    /**
     * {@code __tcp_select_window}'s silly window avoidance on the receiving side: a reader that takes a
     * few bytes at a time never makes the stack announce less than one segment; the window stays shut
     * until a segment fits, then opens by whole segments' worth.
     */
    @Test
    void aSlowReaderNeverOpensTheWindowBySlivers() {
        int win = segment();
        for (int i = 0; i < 1000 && win >= 1000; i++) {
            int w = segment();
            win = w < 0 ? win : w;
        }
        assertEquals(0, win, "the window closes instead of offering less than a segment");
        for (int i = 0; i < 40; i++) {
            assertEquals(100, read(100));
            p.in(PORT, TcpHeader.ACK, seq - 1, p.iss + 1, 65535, new byte[0], 0); // a zero-window probe's ACK
            for (TcpPeer.Seg s : p.drain()) {
                assertTrue(s.win() == 0 || s.win() >= 1000, "no window below one segment after reading " + (i + 1) * 100
                        + " bytes: " + s);
            }
        }
    }
}
