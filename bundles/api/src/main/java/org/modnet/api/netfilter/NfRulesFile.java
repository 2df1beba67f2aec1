package org.modnet.api.netfilter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The rules file a netfilter tool reads whole ({@code iptables-restore [FILE]}, {@code nft -f FILE}):
 * the file, or standard input for none or {@code -}. Each tool words a file it cannot open itself.
 * @since 1.3
 */
public final class NfRulesFile {
    private NfRulesFile() {
    }

    /** The text of {@code file}, or of standard input when it is null or {@code -}. */
    public static String read(String file) throws IOException {
        if (file == null || file.equals("-")) {
            return new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
        }
        return Files.readString(Path.of(file));
    }
}
