package org.modnet.socket;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Locale;

import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockTimer;
import org.modnet.socket.api.TcpInfo;

/**
 * What iproute2 6.1's {@code ss} prints from a socket's {@code struct tcp_info} ({@code tcp_show_info}
 * and {@code tcp_stats_print}): each field only when it is not zero, in ss's order and words, times in
 * milliseconds with C's {@code %g}, rates through {@code sprint_bw}; and the pieces {@code -o},
 * {@code -e} and {@code -m} add ({@code tcp_timer_print}, {@code print_ms_timer},
 * {@code print_skmeminfo}).
 */
final class SsTcpInfo {
    private SsTcpInfo() {
    }

    /**
     * The {@code -i} words for one socket, each with a leading space. {@code options} is {@code -o}
     * (which alone shows ts, sack, ecn), {@code numeric} is {@code -n} (rates as plain numbers).
     */
    static String stats(TcpInfo i, String cong, boolean listen, boolean options, boolean numeric) {
        return stats(i, cong, null, listen, options, numeric);
    }

    /** As above, with BBR's {@code INET_DIAG_BBRINFO} ({@link Sock#bbrInfo()}), or null. */
    static String stats(TcpInfo i, String cong, long[] bbr, boolean listen, boolean options, boolean numeric) {
        StringBuilder b = new StringBuilder();
        if (options) {
            flag(b, i, TcpInfo.TCPI_OPT_TIMESTAMPS, " ts");
            flag(b, i, TcpInfo.TCPI_OPT_SACK, " sack");
            flag(b, i, TcpInfo.TCPI_OPT_ECN, " ecn");
            flag(b, i, TcpInfo.TCPI_OPT_ECN_SEEN, " ecnseen");
            flag(b, i, TcpInfo.TCPI_OPT_SYN_DATA, " fastopen");
        }
        if (cong != null && !cong.isEmpty()) {
            b.append(' ').append(cong);
        }
        if ((i.options() & TcpInfo.TCPI_OPT_WSCALE) != 0) {
            b.append(" wscale:").append(i.sndWscale()).append(',').append(i.rcvWscale());
        }
        if (i.rto() != 0 && i.rto() != 3_000_000) {
            b.append(" rto:").append(g(u32(i.rto()) / 1000.0));
        }
        if (i.backoff() != 0) {
            b.append(" backoff:").append(i.backoff());
        }
        if (i.rtt() != 0) {
            b.append(" rtt:").append(g(u32(i.rtt()) / 1000.0)).append('/').append(g(u32(i.rttvar()) / 1000.0));
        }
        if (i.ato() != 0) {
            b.append(" ato:").append(g(u32(i.ato()) / 1000.0));
        }
        num(b, " mss:", i.sndMss());
        num(b, " pmtu:", i.pmtu());
        num(b, " rcvmss:", i.rcvMss());
        num(b, " advmss:", i.advmss());
        num(b, " cwnd:", i.sndCwnd());
        if (u32(i.sndSsthresh()) < 0xffff) {
            num(b, " ssthresh:", i.sndSsthresh());
        }
        num(b, " bytes_sent:", i.bytesSent());
        num(b, " bytes_retrans:", i.bytesRetrans());
        num(b, " bytes_acked:", i.bytesAcked());
        num(b, " bytes_received:", i.bytesReceived());
        num(b, " segs_out:", i.segsOut());
        num(b, " segs_in:", i.segsIn());
        num(b, " data_segs_out:", i.dataSegsOut());
        num(b, " data_segs_in:", i.dataSegsIn());
        if (bbr != null) { // tcp_stats_print: bw in bits per second, mrtt in ms, gains in units of 1
            b.append(" bbr:(bw:").append(bw(unsigned(bbr[0]) * 8.0, numeric)).append("bps,mrtt:").append(g(u32((int) bbr[1]) / 1000.0));
            if (bbr[2] != 0) {
                b.append(",pacing_gain:").append(g(bbr[2] / 256.0));
            }
            if (bbr[3] != 0) {
                b.append(",cwnd_gain:").append(g(bbr[3] / 256.0));
            }
            b.append(')');
        }
        if (i.rtt() != 0 && i.sndMss() != 0 && i.sndCwnd() != 0) {
            b.append(" send ").append(bw(u32(i.sndCwnd()) * (double) u32(i.sndMss()) * 8_000_000.0 / u32(i.rtt()), numeric)).append("bps");
        }
        num(b, " lastsnd:", i.lastDataSent());
        num(b, " lastrcv:", i.lastDataRecv());
        num(b, " lastack:", i.lastAckRecv());
        if (i.pacingRate() != 0 && i.pacingRate() != -1L) {
            b.append(" pacing_rate ").append(bw(unsigned(i.pacingRate()) * 8.0, numeric)).append("bps");
            if (i.maxPacingRate() != 0 && i.maxPacingRate() != -1L) {
                b.append('/').append(bw(unsigned(i.maxPacingRate()) * 8.0, numeric)).append("bps");
            }
        }
        if (i.deliveryRate() != 0) {
            b.append(" delivery_rate ").append(bw(unsigned(i.deliveryRate()) * 8.0, numeric)).append("bps");
        }
        num(b, " delivered:", i.delivered());
        num(b, " delivered_ce:", i.deliveredCe());
        if (i.deliveryRateAppLimited()) {
            b.append(" app_limited");
        }
        if (i.busyTime() != 0) {
            b.append(" busy:").append(Long.divideUnsigned(i.busyTime(), 1000)).append("ms");
            limited(b, " rwnd_limited:", i.rwndLimited(), i.busyTime());
            limited(b, " sndbuf_limited:", i.sndbufLimited(), i.busyTime());
        }
        num(b, " unacked:", i.unacked());
        if (i.retrans() != 0 || i.totalRetrans() != 0) {
            b.append(" retrans:").append(u32(i.retrans())).append('/').append(u32(i.totalRetrans()));
        }
        num(b, " lost:", i.lost());
        if (!listen) {
            num(b, " sacked:", i.sacked());
        }
        num(b, " dsack_dups:", i.dsackDups());
        num(b, " fackets:", i.fackets());
        if (i.reordering() != 3) {
            b.append(" reordering:").append(i.reordering());
        }
        num(b, " reord_seen:", i.reordSeen());
        if (i.rcvRtt() != 0) {
            b.append(" rcv_rtt:").append(g(u32(i.rcvRtt()) / 1000.0));
        }
        num(b, " rcv_space:", i.rcvSpace());
        num(b, " rcv_ssthresh:", i.rcvSsthresh());
        num(b, " notsent:", i.notsentBytes());
        if (i.minRtt() != 0 && i.minRtt() != -1) {
            b.append(" minrtt:").append(g(u32(i.minRtt()) / 1000.0));
        }
        num(b, " rcv_ooopack:", i.rcvOoopack());
        num(b, " snd_wnd:", i.sndWnd());
        return b.toString();
    }

    private static void flag(StringBuilder b, TcpInfo i, int bit, String word) {
        if ((i.options() & bit) != 0) {
            b.append(word);
        }
    }

    private static void num(StringBuilder b, String word, int v) {
        if (v != 0) {
            b.append(word).append(u32(v));
        }
    }

    private static void num(StringBuilder b, String word, long v) {
        if (v != 0) {
            b.append(word).append(Long.toUnsignedString(v));
        }
    }

    private static void limited(StringBuilder b, String word, long part, long busy) {
        if (part != 0) {
            b.append(word).append(Long.divideUnsigned(part, 1000)).append("ms(")
                    .append(String.format(Locale.ROOT, "%.1f", 100.0 * unsigned(part) / unsigned(busy))).append("%)");
        }
    }

    private static long u32(int v) {
        return Integer.toUnsignedLong(v);
    }

    private static double unsigned(long v) {
        return v >= 0 ? v : (double) (v >>> 1) * 2.0;
    }

    /** {@code sprint_bw}: bits per second as {@code %.0f} with -n, else three digits and k, M, G or T. */
    static String bw(double bps, boolean numeric) {
        if (numeric) {
            return String.format(Locale.ROOT, "%.0f", bps);
        }
        if (bps >= 1e12) {
            return g(bps / 1e12, 3) + "T";
        }
        if (bps >= 1e9) {
            return g(bps / 1e9, 3) + "G";
        }
        if (bps >= 1e6) {
            return g(bps / 1e6, 3) + "M";
        }
        if (bps >= 1e3) {
            return g(bps / 1e3, 3) + "k";
        }
        return g(bps);
    }

    /** C's {@code %g}: six significant digits, trailing zeros dropped, an exponent below 1e-4 or from 1e6. */
    static String g(double v) {
        return g(v, 6);
    }

    /** C's {@code %.Pg}. */
    static String g(double v, int precision) {
        if (v == 0) {
            return "0";
        }
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return Double.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
        }
        BigDecimal d = new BigDecimal(v).round(new MathContext(precision, RoundingMode.HALF_EVEN));
        int exp = d.precision() - d.scale() - 1; // the decimal exponent after rounding
        if (exp < -4 || exp >= precision) {
            BigDecimal mant = d.movePointLeft(exp);
            String m = strip(mant.setScale(precision - 1, RoundingMode.HALF_EVEN).toPlainString());
            return m + (exp < 0 ? "e-" : "e+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
        }
        return strip(d.setScale(Math.max(precision - 1 - exp, 0), RoundingMode.HALF_EVEN).toPlainString());
    }

    private static String strip(String s) {
        if (s.indexOf('.') < 0) {
            return s;
        }
        int end = s.length();
        while (s.charAt(end - 1) == '0') {
            end--;
        }
        if (s.charAt(end - 1) == '.') {
            end--;
        }
        return s.substring(0, end);
    }

    /** {@code tcp_timer_print}: {@code timer:(on,200ms,0)}; nothing when no timer is pending. */
    static String timer(SockTimer t) {
        if (t.kind() == SockTimer.OFF) {
            return "";
        }
        return " timer:(" + t.name() + "," + msTimer(t.expiresMs()) + "," + t.retrans() + ")";
    }

    /** {@code print_ms_timer}: "200ms", "1.500ms", "59sec", "2min5sec", "119min". */
    static String msTimer(long ms) {
        long timeout = Math.max(ms, 0);
        long secs = timeout / 1000;
        long minutes = secs / 60;
        secs %= 60;
        long msecs = timeout % 1000;
        StringBuilder b = new StringBuilder();
        if (minutes != 0) {
            msecs = 0;
            b.append(minutes).append("min");
            if (minutes > 9) {
                secs = 0;
            }
        }
        if (secs != 0) {
            if (secs > 9) {
                msecs = 0;
            }
            b.append(secs).append(msecs != 0 ? "." : "sec");
        }
        if (msecs != 0) {
            b.append(String.format(Locale.ROOT, "%03dms", msecs));
        }
        return b.toString();
    }

    /** {@code print_skmeminfo}: {@code skmem:(r0,rb131072,t0,tb16384,f0,w0,o0,bl0,d0)}. */
    static String skmem(Sock s) {
        long[] m = s.memInfo();
        String[] names = { "r", "rb", "t", "tb", "f", "w", "o", "bl", "d" };
        StringBuilder b = new StringBuilder(" skmem:(");
        for (int k = 0; k < names.length; k++) {
            b.append(k == 0 ? "" : ",").append(names[k]).append(k < m.length ? m[k] : 0);
        }
        return b.append(')').toString();
    }
}
