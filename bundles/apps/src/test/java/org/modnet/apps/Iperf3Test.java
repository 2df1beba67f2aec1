package org.modnet.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.channels.spi.SelectorProvider;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** iperf3's options, numbers, JSON framing and line formats, without a network. */
class Iperf3Test {
    private static Iperf3.Options parse(String... args) throws Iperf3.Failure {
        return Iperf3.parse(List.of(args));
    }

    @Test
    void clientDefaultsAreIperf3s() throws Exception {
        Iperf3.Options o = parse("-c", "10.0.0.1");
        assertEquals(5201, o.port());
        assertEquals(10.0, o.time());
        assertEquals(131072, o.len());
        assertEquals(0, o.bandwidth());
        assertEquals(1, o.parallel());
    }

    @Test
    void udpDefaultsToOneMebibitAndAPathSizedBlock() throws Exception {
        Iperf3.Options o = parse("-c", "10.0.0.1", "-u");
        assertEquals(1024 * 1024, o.bandwidth());
        assertEquals(1460, o.len());
    }

    @Test
    void ratesAreDecimalAndSizesBinary() throws Exception {
        Iperf3.Options o = parse("-c", "10.0.0.1", "-u", "-b", "10M", "-n", "2M", "-l", "1K");
        assertEquals(10_000_000, o.bandwidth());
        assertEquals(2 * 1024 * 1024, o.bytes());
        assertEquals(1024, o.len());
    }

    @Test
    void refusesNeitherClientNorServerAndClientOnlyOptionsOnAServer() {
        Iperf3.Failure f = assertThrows(Iperf3.Failure.class, () -> parse("-p", "5201"));
        assertTrue(f.getMessage().startsWith("must either be a client (-c) or server (-s)"), f.getMessage());
        f = assertThrows(Iperf3.Failure.class, () -> parse("-s", "-R"));
        assertEquals("some option you are trying to set is client only", f.getMessage());
        f = assertThrows(Iperf3.Failure.class, () -> parse("-c", "1.2.3.4", "-P", "129"));
        assertTrue(f.getMessage().startsWith("number of parallel streams too large"), f.getMessage());
    }

    @Test
    void unknownOptionIsAParameterErrorWithTheUsage() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int status = new Iperf3(SelectorProvider.provider(), new PrintStream(b)).run(List.of("-c", "1.2.3.4", "-Z"));
        assertEquals(1, status);
        String out = b.toString(StandardCharsets.UTF_8);
        assertTrue(out.startsWith("iperf3: parameter error - unrecognized option '-Z'"), out);
        assertTrue(out.contains("Usage: iperf3 [-s|-c host] [options]"), out);
    }

    @Test
    void cookieIsThirtySixBase32Characters() {
        String c = Iperf3.cookie(new Random(1));
        assertEquals(36, c.length());
        assertTrue(c.matches("[a-z2-7]{36}"), c);
    }

    @Test
    void parametersCarryIperf3sKeysInItsOrder() throws Exception {
        String json = Iperf3Json.write(Iperf3.params(parse("-c", "1.2.3.4", "-t", "1", "-P", "2", "-R", "-l", "1000")));
        assertEquals("{\"tcp\":true,\"omit\":0,\"time\":1,\"num\":0,\"blockcount\":0,\"parallel\":2,\"reverse\":true,"
                + "\"len\":1000,\"pacing_timer\":1000,\"client_version\":\"3.12\"}", json);
        json = Iperf3Json.write(Iperf3.params(parse("-c", "1.2.3.4", "-u", "-b", "1M", "-t", "1", "-l", "100")));
        assertEquals("{\"udp\":true,\"omit\":0,\"time\":1,\"num\":0,\"blockcount\":0,\"parallel\":1,\"len\":100,"
                + "\"bandwidth\":1000000,\"pacing_timer\":1000,\"client_version\":\"3.12\"}", json);
    }

    @Test
    void serverTakesTheTestFromLinuxsParameters() throws Exception {
        Map<String, Object> p = Iperf3Json.object("{\"udp\":true,\"omit\":0,\"time\":3,\"num\":0,\"blockcount\":0,"
                + "\"parallel\":2,\"reverse\":true,\"len\":1200,\"bandwidth\":10000000,\"pacing_timer\":1000,\"client_version\":\"3.12\"}");
        Iperf3.Options o = Iperf3.fromParams(p, parse("-s"));
        assertTrue(o.udp());
        assertTrue(o.reverse());
        assertEquals(2, o.parallel());
        assertEquals(1200, o.len());
        assertEquals(10_000_000, o.bandwidth());
        assertEquals(3.0, o.time());
    }

    @Test
    void serverRefusesABlockSizeItCannotHold() throws Exception {
        Map<String, Object> p = Iperf3Json.object("{\"tcp\":true,\"parallel\":1,\"len\":100000000}");
        assertThrows(java.io.IOException.class, () -> Iperf3.fromParams(p, parse("-s")));
    }

    @Test
    void readsLinuxsUnknownCountAsMinusOne() {
        Map<String, Object> r = Iperf3Json.object("{\"sender_has_retransmits\":18446744073709551615,"
                + "\"streams\":[{\"id\":1,\"bytes\":124900,\"jitter\":1.72858982392302e-05,\"errors\":0}]}");
        assertEquals(-1L, r.get("sender_has_retransmits"));
        Map<?, ?> s = (Map<?, ?>) ((List<?>) r.get("streams")).get(0);
        assertEquals(124900L, s.get("bytes"));
        assertEquals(1.72858982392302e-05, (Double) s.get("jitter"), 1e-20);
    }

    @Test
    void badJsonIsAnErrorWithItsOffsetNotAnException() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Iperf3Json.object("{\"tcp\":tru}"));
        assertTrue(e.getMessage().contains("offset"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Iperf3Json.object("[".repeat(100)));
    }

    @Test
    void prettyJsonParsesBackToTheSameDocument() {
        Map<String, Object> doc = Iperf3Json.object("{\"a\":[1,2.5,\"x\\\"y\"],\"b\":{\"c\":true,\"d\":null}}");
        assertEquals(doc, Iperf3Json.object(Iperf3Json.pretty(doc)));
    }

    @Test
    void unitsAreIperf3sThreeSignificantDigits() {
        assertEquals("66.8 MByte", Iperf3Format.bytes(70_044_058));
        assertEquals(" 122 KByte", Iperf3Format.bytes(124_900));
        assertEquals("0.00 Byte", Iperf3Format.bytes(0));
        assertEquals("1.23 Gbit", Iperf3Format.bits(1.23e9));
        assertEquals(" 999 Kbit", Iperf3Format.bits(999_200));
    }

    @Test
    void intervalAndSummaryLinesLineUpWithIperf3s() {
        assertEquals("[  5]   0.00-1.00   sec   122 KBytes   999 Kbits/sec  1249  ",
                Iperf3Format.udpSender(5, 0, 1.0, 124_900, 1249));
        assertEquals("[  5]   0.00-1.00   sec   122 KBytes   999 Kbits/sec  0.017 ms  0/1249 (0%)  receiver",
                Iperf3Format.udp(5, 0, 1.0, 124_900, 0.0172858, 0, 1249, "receiver"));
        assertEquals("[SUM]   0.00-1.00   sec   134 MBytes  1.12 Gbits/sec                  sender",
                Iperf3Format.tcp(-1, 0, 1.0, 140_000_000, "sender"));
        assertEquals("[  7]   0.00-1.00   sec  66.8 MBytes   560 Mbits/sec    8             sender",
                Iperf3Format.tcpRetr(7, 0, 1.0, 70_044_058, 8, "sender"));
    }

    @Test
    void aSendersIntervalLineHasTcpInfosRetrAndCwndAsLinuxsIperf3Prints() {
        // from Linux's iperf3 3.12 -c 127.0.0.1 -P 2: "[  5]   0.00-1.00   sec   866 MBytes  7.24 Gbits/sec    1   2.00 MBytes       "
        assertEquals("[  5]   0.00-1.00   sec   866 MBytes  7.26 Gbits/sec    1   2.00 MBytes       ",
                Iperf3Format.tcpRetrCwnd(5, 0, 1.0, 866L * 1024 * 1024, 1, 2L * 1024 * 1024));
        assertEquals("[  5]   1.00-1.01   sec  3.75 MBytes  3.93 Gbits/sec    0   1.25 MBytes       ",
                Iperf3Format.tcpRetrCwnd(5, 1.0, 1.008, 3_932_160, 0, 1_310_720));
        assertEquals("[SUM]   0.00-1.00   sec  1.69 GBytes  14.5 Gbits/sec    1             ",
                Iperf3Format.tcpRetr(-1, 0, 1.0, 1_811_939_328L, 1, ""));
        assertEquals("[ ID] Interval           Transfer     Bitrate         Retr  Cwnd", Iperf3Format.HEADER_RETR_CWND);
    }

    @Test
    void lossPercentIsTwoSignificantDigits() {
        assertEquals("0", Iperf3Format.g2(0));
        assertEquals("1.2", Iperf3Format.g2(1.234));
        assertEquals("50", Iperf3Format.g2(50));
    }

    @Test
    void udpReceiverCountsGapsAsLostAndLateOnesAsOutOfOrder() {
        Iperf3.Stream s = new Iperf3.Stream(1, 5, null, null);
        s.udpArrival(1, 0, 0.001);
        s.udpArrival(2, 0.001, 0.002);
        s.udpArrival(5, 0.004, 0.006);
        assertEquals(5, s.packets);
        assertEquals(2, s.lost);
        s.udpArrival(3, 0.002, 0.007);
        assertEquals(1, s.outOfOrder);
        assertEquals(1, s.lost);
        assertFalse(s.jitter <= 0);
    }
}
