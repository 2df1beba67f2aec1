package org.modnet.packetdrill;

/**
 * The flags column of a TCP line, tcpdump's letters: {@code S} SYN, {@code F} FIN, {@code R} RST,
 * {@code P} PSH, {@code .} ACK, {@code U} URG, {@code E} ECE, {@code W} CWR, {@code A} AE; {@code -}
 * for none. A digit 0-7 gives AccECN's ACE field (AE, CWR, ECE as bits 2, 1, 0) and excludes E/W/A.
 * {@code ace} is -1 when no digit is written.
 */
public record TcpFlags(String text, boolean syn, boolean fin, boolean rst, boolean psh, boolean ack, boolean urg,
        boolean ece, boolean cwr, boolean ae, int ace) {

    private static final String VALID = ".FSRPEWAU01234567";

    /** The flags of {@code text} ({@code "S."}, {@code "FP."}, {@code ""} for {@code -}), or the error packetdrill gives. */
    static TcpFlags parse(String text) throws IllegalArgumentException {
        boolean ecnLetter = false;
        int ace = -1;
        for (char c : text.toCharArray()) {
            if (VALID.indexOf(c) < 0) {
                throw new IllegalArgumentException("Invalid TCP flag: '" + c + "'");
            }
            if ("EWA".indexOf(c) >= 0) {
                if (ace >= 0) {
                    throw new IllegalArgumentException("Conflicting TCP flag: '" + c + "'");
                }
                ecnLetter = true;
            }
            if (c >= '0' && c <= '7') {
                if (ecnLetter || ace >= 0) {
                    throw new IllegalArgumentException("Conflicting TCP flag: '" + c + "'");
                }
                ace = c - '0';
            }
        }
        boolean ece = ace >= 0 ? (ace & 1) != 0 : has(text, 'E');
        boolean cwr = ace >= 0 ? (ace & 2) != 0 : has(text, 'W');
        boolean ae = ace >= 0 ? (ace & 4) != 0 : has(text, 'A');
        return new TcpFlags(text, has(text, 'S'), has(text, 'F'), has(text, 'R'), has(text, 'P'), has(text, '.'),
                has(text, 'U'), ece, cwr, ae, ace);
    }

    private static boolean has(String text, char c) {
        return text.indexOf(c) >= 0;
    }

    @Override
    public String toString() {
        return text.isEmpty() ? "-" : text;
    }
}
