package __PACKAGE__;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.shell.CommandException;

class __CLASS__CommandTest {
    @Test
    void printsItsArguments() throws CommandException {
        assertEquals("__NAME__: a b", __CLASS__Command.run(List.of("a", "b")));
    }

    @Test
    void anUnknownOptionFailsWithStatusOne() {
        assertThrows(CommandException.class, () -> __CLASS__Command.run(List.of("-x")));
    }
}
