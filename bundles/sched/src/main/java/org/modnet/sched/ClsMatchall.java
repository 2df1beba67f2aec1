package org.modnet.sched;

import java.util.List;

import org.modnet.api.skb.SkBuff;

/** {@code matchall} ({@code net/sched/cls_matchall.c}): every frame of the filter's protocol matches. */
final class ClsMatchall implements Cls {
    static final String USAGE = """
            Usage: ... matchall [skip_sw | skip_hw]
                             [ action ACTION_SPEC ] [ classid CLASSID ]""";
    private final boolean skipHw;

    ClsMatchall(boolean skipHw) {
        this.skipHw = skipHw;
    }

    @Override
    public int classify(SkBuff skb, boolean ingress) {
        return MATCH;
    }

    @Override
    public void print(List<String> out, StringBuilder line, boolean stats) {
        out.add(line.toString());
        if (skipHw) {
            out.add("  skip_hw");
        }
        out.add("  not_in_hw");
    }
}
