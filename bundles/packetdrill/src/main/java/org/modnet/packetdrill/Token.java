package org.modnet.packetdrill;

/**
 * One token of a script (packetdrill's {@code lexer.l}). {@code text} is what the parser sees: the
 * word, the number as written, a string or command without its quotes, a code snippet without
 * {@code %{ }%} and its outer blanks, an option's name without {@code --}. {@code line} is the line
 * the token ends on, as flex's {@code yylineno} counts (syntax errors name it); {@code startLine} the
 * line it starts on (a multi-line command or snippet is shown where it begins); {@code offset} is
 * where it starts in the text.
 */
record Token(Kind kind, String text, int line, int offset, int startLine) {

    Token(Kind kind, String text, int line, int offset) {
        this(kind, text, line, offset, line);
    }

    enum Kind {
        /** A reserved word ({@code ack}, {@code win}, {@code mss}, {@code fd}, ...): never a WORD. */
        RESERVED,
        ELLIPSIS, OPTION, FLOAT, INTEGER, HEX_INTEGER, WORD, STRING, BACK_QUOTED, CODE,
        IPV4_ADDR, IPV6_ADDR,
        /** Any other single character: {@code < > . : ( ) [ ] { } , = | + * ~ -}. */
        CHAR,
        EOF
    }

    boolean is(char c) {
        return kind == Kind.CHAR && text.length() == 1 && text.charAt(0) == c;
    }

    boolean isReserved(String word) {
        return kind == Kind.RESERVED && text.equals(word);
    }

    /** The token as packetdrill's {@code parse error at '...'} shows it. */
    String shown() {
        return switch (kind) {
            case EOF -> "";
            case OPTION -> "--" + text;
            case STRING -> '"' + text + '"';
            case BACK_QUOTED -> '`' + text + '`';
            case CODE -> "%{" + text + "}%";
            default -> text;
        };
    }
}
