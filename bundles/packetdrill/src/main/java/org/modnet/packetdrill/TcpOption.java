package org.modnet.packetdrill;

import java.util.HexFormat;
import java.util.List;

/**
 * One TCP option of a packet line, as written (parser.y {@code tcp_option}); {@link #length()} is the
 * bytes it takes on the wire, kind and length octets included; {@code toString()} writes it back in
 * the script's syntax ({@code mss 1460}, {@code TS val 100 ecr 0}, {@code sack 1:2 3:4}).
 */
public sealed interface TcpOption {
    int KIND_EOL = 0;
    int KIND_NOP = 1;
    int KIND_MSS = 2;
    int KIND_WSCALE = 3;
    int KIND_SACK_PERMITTED = 4;
    int KIND_SACK = 5;
    int KIND_TIMESTAMP = 8;
    int KIND_MD5 = 19;
    int KIND_FASTOPEN = 34;
    int KIND_ACCECN0 = 172;
    int KIND_ACCECN1 = 174;
    int KIND_EXPERIMENTAL = 254;
    /** The magic after kind 254 that marks the experimental Fast Open option. */
    int FASTOPEN_MAGIC = 0xF989;

    int kind();

    int length();

    /** {@code nop}. */
    record Nop() implements TcpOption {
        public int kind() { return KIND_NOP; }
        public int length() { return 1; }
        @Override
        public String toString() { return "nop"; }
    }

    /** {@code eol}. */
    record Eol() implements TcpOption {
        public int kind() { return KIND_EOL; }
        public int length() { return 1; }
        @Override
        public String toString() { return "eol"; }
    }

    /** {@code mss N}. */
    record Mss(int mss) implements TcpOption {
        public int kind() { return KIND_MSS; }
        public int length() { return 4; }
        @Override
        public String toString() { return "mss " + mss; }
    }

    /** {@code wscale N}, or {@code wscale *}: any shift count matches (outbound). */
    record WindowScale(int shift, boolean any) implements TcpOption {
        public int kind() { return KIND_WSCALE; }
        public int length() { return 3; }
        @Override
        public String toString() { return "wscale " + (any ? "*" : Integer.toString(shift)); }
    }

    /** {@code sackOK}. */
    record SackPermitted() implements TcpOption {
        public int kind() { return KIND_SACK_PERMITTED; }
        public int length() { return 2; }
        @Override
        public String toString() { return "sackOK"; }
    }

    /** {@code sack L:R [L:R ...]}: blocks in the script's relative numbers. */
    record Sack(List<Block> blocks) implements TcpOption {
        public Sack {
            blocks = List.copyOf(blocks);
        }
        public int kind() { return KIND_SACK; }
        public int length() { return 2 + 8 * blocks.size(); }
        @Override
        public String toString() {
            StringBuilder b = new StringBuilder("sack");
            blocks.forEach(x -> b.append(' ').append(x.left()).append(':').append(x.right()));
            return b.toString();
        }

        public record Block(long left, long right) {
        }
    }

    /** {@code TS val V ecr E}. */
    record Timestamp(long val, long ecr) implements TcpOption {
        public int kind() { return KIND_TIMESTAMP; }
        public int length() { return 10; }
        @Override
        public String toString() { return "TS val " + val + " ecr " + ecr; }
    }

    /** {@code FO [cookie]} (kind 34) or {@code FOEXP [cookie]} (kind 254 with magic 0xF989): the cookie's bytes. */
    record FastOpen(byte[] cookie, boolean experimental) implements TcpOption {
        public FastOpen {
            cookie = cookie.clone();
        }
        @Override
        public byte[] cookie() { return cookie.clone(); }
        public int kind() { return experimental ? KIND_EXPERIMENTAL : KIND_FASTOPEN; }
        public int length() { return (experimental ? 4 : 2) + cookie.length; }

        @Override
        public boolean equals(Object o) {
            return o instanceof FastOpen f && f.experimental == experimental && java.util.Arrays.equals(f.cookie, cookie);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(cookie) * 31 + Boolean.hashCode(experimental);
        }

        @Override
        public String toString() {
            return (experimental ? "FOEXP" : "FO") + (cookie.length == 0 ? "" : " " + HexFormat.of().formatHex(cookie));
        }
    }

    /** {@code md5 HEX}: a digest of up to 16 bytes (shorter ones are allowed, for tests of bad options). */
    record Md5(byte[] digest) implements TcpOption {
        public Md5 {
            digest = digest.clone();
        }
        @Override
        public byte[] digest() { return digest.clone(); }
        public int kind() { return KIND_MD5; }
        public int length() { return 2 + digest.length; }

        @Override
        public boolean equals(Object o) {
            return o instanceof Md5 m && java.util.Arrays.equals(m.digest, digest);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(digest);
        }

        @Override
        public String toString() {
            return "md5 " + HexFormat.of().formatHex(digest);
        }
    }

    /**
     * AccECN's option, {@code ECN e0b N ceb N e1b N} (kind 172) or {@code ECN e1b N ceb N e0b N} (kind
     * 174), with one, two or three 24-bit byte counters in the order written.
     */
    record AccEcn(List<Counter> counters) implements TcpOption {
        public AccEcn {
            counters = List.copyOf(counters);
        }
        public int kind() {
            return !counters.isEmpty() && counters.getFirst().name().equals("e1b") ? KIND_ACCECN1 : KIND_ACCECN0;
        }
        public int length() { return 2 + 3 * counters.size(); }
        @Override
        public String toString() {
            StringBuilder b = new StringBuilder("ECN");
            counters.forEach(c -> b.append(' ').append(c.name()).append(' ').append(c.value()));
            return b.toString();
        }

        public record Counter(String name, long value) {
        }
    }
}
