package io.herd.server.bulk.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LineSplitterTest {
  private final List<LineSplitter.Line> lines = new ArrayList<>();

  private static Buffer b(String s) {
    return Buffer.buffer(s.getBytes(StandardCharsets.UTF_8));
  }

  private List<String> texts() {
    List<String> out = new ArrayList<>();
    for (LineSplitter.Line l : lines) {
      out.add(l.text() == null ? null : l.text().toString(StandardCharsets.UTF_8));
    }
    return out;
  }

  @Test
  void linesSplitAcrossBuffersComeOutWholeAndNumbered() {
    LineSplitter s = new LineSplitter(100);
    s.feed(b("one\ntw"), lines::add);
    s.feed(b("o\r\n\nthr"), lines::add);
    s.feed(b("ee"), lines::add);
    assertThat(texts()).containsExactly("one", "two", "");
    s.finish(lines::add);
    assertThat(texts()).containsExactly("one", "two", "", "three");
    assertThat(lines).extracting(LineSplitter.Line::number).containsExactly(1L, 2L, 3L, 4L);
    assertThat(lines).extracting(LineSplitter.Line::end).containsExactly(4L, 9L, 10L, 15L);
  }

  @Test
  void aFinalLineEndAddsNoEmptyLine() {
    LineSplitter s = new LineSplitter(100);
    s.feed(b("a\nb\n"), lines::add);
    s.finish(lines::add);
    assertThat(texts()).containsExactly("a", "b");
  }

  @Test
  void aByteOrderMarkBeforeTheFirstLineIsDropped() {
    LineSplitter s = new LineSplitter(100);
    s.feed(Buffer.buffer(new byte[] {(byte) 0xEF, (byte) 0xBB}), lines::add);
    s.feed(b("\u00BF{}\n{}"), lines::add); // U+00BF is 0xC2 0xBF: not a BOM
    s.finish(lines::add);
    assertThat(lines.get(0).text().getBytes())
        .containsExactly(0xEF - 256, 0xBB - 256, 0xC2 - 256, 0xBF - 256, '{', '}');

    lines.clear();
    LineSplitter t = new LineSplitter(100);
    t.feed(
        Buffer.buffer(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, '{', '}', '\n'}),
        lines::add);
    assertThat(texts()).containsExactly("{}");
  }

  @Test
  void anOverlongLineLosesItsTextButNotTheLinesAfterIt() {
    LineSplitter s = new LineSplitter(5);
    s.feed(b("12345\n123456"), lines::add);
    s.feed(b("789\nok\n"), lines::add);
    s.finish(lines::add);
    assertThat(texts()).containsExactly("12345", null, "ok");
    assertThat(lines.get(2).number()).isEqualTo(3);
    assertThat(lines.get(2).end()).isEqualTo(19);
  }
}
