package org.modnet.apps;

import java.util.Locale;

/**
 * iperf3's printed numbers and lines: {@code unit_snprintf}'s adaptive units (bytes in powers of 1024,
 * bits in powers of 1000, three significant digits) and the report line layouts of iperf3 3.12's
 * {@code locale.c}, so a modnet run reads like a Linux one column for column.
 */
final class Iperf3Format {
    private Iperf3Format() {
    }

    static final String SEPARATOR = "- - - - - - - - - - - - - - - - - - - - - - - - -";
    static final String BANNER = "-----------------------------------------------------------";
    static final String HEADER = "[ ID] Interval           Transfer     Bitrate";
    static final String HEADER_RETR = "[ ID] Interval           Transfer     Bitrate         Retr";
    static final String HEADER_RETR_CWND = "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd";
    static final String HEADER_UDP_SENDER = "[ ID] Interval           Transfer     Bitrate         Total Datagrams";
    static final String HEADER_UDP = "[ ID] Interval           Transfer     Bitrate         Jitter    Lost/Total Datagrams";

    private static final String[] BYTE_UNITS = { "Byte", "KByte", "MByte", "GByte", "TByte" };
    private static final String[] BIT_UNITS = { "bit", "Kbit", "Mbit", "Gbit", "Tbit" };

    /** A byte count as iperf3's format 'A': "66.8 MByte" (the caller appends the "s"). */
    static String bytes(double n) {
        return adaptive(n, 1024.0, BYTE_UNITS);
    }

    /** A rate in bits per second as format 'a': "1.23 Gbit" (the caller appends "s/sec"). */
    static String bits(double bitsPerSecond) {
        return adaptive(bitsPerSecond, 1000.0, BIT_UNITS);
    }

    private static String adaptive(double n, double base, String[] units) {
        int u = 0;
        while (n >= base && u < units.length - 1) {
            n /= base;
            u++;
        }
        String f = n < 9.995 ? "%4.2f %s" : n < 99.95 ? "%4.1f %s" : "%4.0f %s";
        return String.format(Locale.ROOT, f, n, units[u]);
    }

    static String id(int socket) {
        return socket < 0 ? "[SUM]" : String.format(Locale.ROOT, "[%3d]", socket);
    }

    private static String head(int socket, double start, double end, long bytes, double seconds) {
        double rate = seconds > 0 ? bytes * 8.0 / seconds : 0;
        return String.format(Locale.ROOT, "%s %6.2f-%-6.2f sec  %ss  %ss/sec", id(socket), start, end, bytes(bytes), bits(rate));
    }

    /** A TCP line without the sender's retransmits: report_bw_format. socket &lt; 0 is [SUM]. */
    static String tcp(int socket, double start, double end, long bytes, String role) {
        return head(socket, start, end, bytes, end - start) + "                  " + role;
    }

    /** A TCP sender's summary line with its retransmits: report_bw_retrans_format. */
    static String tcpRetr(int socket, double start, double end, long bytes, long retransmits, String role) {
        return head(socket, start, end, bytes, end - start) + String.format(Locale.ROOT, "  %3d             %s", retransmits, role);
    }

    /** A TCP sender's interval line with TCP_INFO's retransmits and cwnd in bytes: report_bw_retrans_cwnd_format. */
    static String tcpRetrCwnd(int socket, double start, double end, long bytes, long retransmits, long cwndBytes) {
        return head(socket, start, end, bytes, end - start) + String.format(Locale.ROOT, "  %3d   %ss       ", retransmits, bytes(cwndBytes));
    }

    /** A UDP sender's interval line: report_bw_udp_sender_format (datagrams sent). */
    static String udpSender(int socket, double start, double end, long bytes, long packets) {
        return head(socket, start, end, bytes, end - start) + String.format(Locale.ROOT, "  %d  ", packets);
    }

    /** A UDP receiver's line, or a summary line: report_bw_udp_format. */
    static String udp(int socket, double start, double end, long bytes, double jitterMs, long lost, long total, String role) {
        double pct = total > 0 ? 100.0 * lost / total : 0;
        return head(socket, start, end, bytes, end - start)
                + String.format(Locale.ROOT, "  %5.3f ms  %d/%d (%s%%)  %s", jitterMs, lost, total, g2(pct), role);
    }

    /** C's "%.2g": two significant digits, no trailing zeros. */
    static String g2(double v) {
        if (v == 0) {
            return "0";
        }
        String s = new java.math.BigDecimal(v).round(new java.math.MathContext(2)).stripTrailingZeros().toPlainString();
        return s;
    }
}
