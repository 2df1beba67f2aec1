package org.modnet.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;
import org.modnet.socket.api.TcpInfo;

/** {@code struct tcp_info} as Linux lays it out for a C caller on a little-endian machine. */
class TcpInfoTest {
    /** Every field a different value, so a field at the wrong offset shows. */
    private static TcpInfo sample() {
        return new TcpInfo(1, 4, 3, 2, 5, 7, 7, 9, true, 2, 204000, 40000, 1448, 536, 11, 12, 13, 14, 0, 101, 0, 102, 103, 1500, 64000,
                30, 15, 0x7fffffff, 10, 1460, 3, 77, 14600, 21, 0x1122334455667788L, -1L, 1_000_001L, 2_000_002L, 31, 32, 33, 34, 35, 36,
                123_456_789L, 41L, 42L, 43L, 51, 52, 3_000_003L, 4_000_004L, 61, 62, 63, 65536, 131072, 71, 81, 82, 83);
    }

    @Test
    void fieldsSitAtTheOffsetsOfUapiLinuxTcpH() {
        ByteBuffer b = ByteBuffer.wrap(sample().toBytes()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(248, b.capacity());
        assertEquals(1, b.get(0)); // tcpi_state
        assertEquals(4, b.get(1)); // tcpi_ca_state
        assertEquals(0x97, b.get(6) & 0xff, "snd_wscale in the low nibble, rcv_wscale in the high one");
        assertEquals(0x05, b.get(7) & 0xff, "delivery_rate_app_limited bit 0, fastopen_client_fail bits 1-2");
        assertEquals(204000, b.getInt(8)); // tcpi_rto
        assertEquals(1448, b.getInt(16)); // tcpi_snd_mss
        assertEquals(101, b.getInt(44)); // tcpi_last_data_sent
        assertEquals(30, b.getInt(68)); // tcpi_rtt
        assertEquals(10, b.getInt(80)); // tcpi_snd_cwnd
        assertEquals(21, b.getInt(100)); // tcpi_total_retrans
        assertEquals(0x1122334455667788L, b.getLong(104)); // tcpi_pacing_rate
        assertEquals(-1L, b.getLong(112)); // tcpi_max_pacing_rate: ~0
        assertEquals(1_000_001L, b.getLong(120)); // tcpi_bytes_acked
        assertEquals(31, b.getInt(136)); // tcpi_segs_out
        assertEquals(34, b.getInt(148)); // tcpi_min_rtt
        assertEquals(123_456_789L, b.getLong(160)); // tcpi_delivery_rate
        assertEquals(51, b.getInt(192)); // tcpi_delivered
        assertEquals(3_000_003L, b.getLong(200)); // tcpi_bytes_sent
        assertEquals(4_000_004L, b.getLong(208)); // tcpi_bytes_retrans
        assertEquals(63, b.getInt(224)); // tcpi_rcv_ooopack
        assertEquals(65536, b.getInt(228)); // tcpi_snd_wnd: the end of Linux 6.1's struct
        assertEquals(131072, b.getInt(232)); // tcpi_rcv_wnd
        assertEquals(81, b.getShort(240)); // tcpi_total_rto
        assertEquals(83, b.getInt(244)); // tcpi_total_rto_time
    }

    @Test
    void readingTheBytesBackGivesTheSameRecord() {
        TcpInfo i = sample();
        assertEquals(i, TcpInfo.read(ByteBuffer.wrap(i.toBytes())));
        assertThrows(IllegalArgumentException.class, () -> TcpInfo.read(ByteBuffer.allocate(TcpInfo.SIZE_6_1)));
    }

    @Test
    void wordsAreCutToTheCallersLength() {
        int[] all = new int[100];
        assertEquals(62, sample().words(all));
        int[] six = new int[TcpInfo.SIZE_6_1 / 4];
        assertEquals(58, sample().words(six));
        assertEquals(65536, six[57]);
        assertEquals(0x02030401, six[0], "state, ca_state, retransmits, probes as a little-endian word");
        assertEquals(0x05970705, six[1], "backoff, options, the wscale nibbles, the app-limited bits");
    }

    @Test
    void ssPrintsBbrsModelAfterDataSegsInAsIproute2Does() {
        long[] bbr = { 1_250_000L, 20_500L, 256 * 5 / 4, 512 }; // 10 Mbit/s, 20.5 ms, gains 1.25 and 2
        String line = SsTcpInfo.stats(sample(), "bbr", bbr, false, false, false);
        assertTrue(line.startsWith(" bbr "), line);
        assertTrue(line.contains(" data_segs_in:35 bbr:(bw:10Mbps,mrtt:20.5,pacing_gain:1.25,cwnd_gain:2) send "), line);
        assertFalse(SsTcpInfo.stats(sample(), "cubic", null, false, false, false).contains("bbr:("));
    }
}
