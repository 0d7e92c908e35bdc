#!/usr/bin/env bash
# Issue 21: decoding only RandomResizedCrop's rectangle against a full decode (bench/pipeline/crop-decode.c), on the
# 64 PhotoLike 400x350 JPEGs of bench/pipeline/run.sh (quality BATON_BENCH_QUALITY, default 97).
# Usage (repo root): bench/pipeline/crop-decode.sh [margin px, default 16]
# Installs what it needs: Debian libjpeg62-turbo-dev (apt-get) if its header is missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lock.sh" # holds the build/benchmark lock until this script exits
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/bench/pipeline/out"
cd "$root"
[ -f /usr/include/jpeglib.h ] || apt-get install -y libjpeg62-turbo-dev > /dev/null
mkdir -p "$out/jpeg"
mvn -B -q -o -pl trainer -am test-compile -DskipTests
cat > "$out/WriteJpegs.java" <<'JAVA'
import io.baton.trainer.data.image.PhotoLike;
import java.io.File;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.FileImageOutputStream;
public class WriteJpegs {
    public static void main(String[] args) throws Exception {
        for (int i = 0; i < 64; i++) {
            ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
            try (FileImageOutputStream stream = new FileImageOutputStream(new File(args[0], i + ".jpg"))) {
                ImageWriteParam param = writer.getDefaultWriteParam();
                param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                param.setCompressionQuality(Integer.parseInt(args[1]) / 100f);
                writer.setOutput(stream);
                writer.write(null, new IIOImage(PhotoLike.render(400, 350, i), null, null), param);
            }
            writer.dispose();
        }
    }
}
JAVA
java -cp trainer/target/test-classes "$out/WriteJpegs.java" "$out/jpeg" "${BATON_BENCH_QUALITY:-97}"
gcc -O2 -o "$out/crop-decode" bench/pipeline/crop-decode.c -ljpeg -lm
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), libjpeg-turbo $(dpkg-query -W -f '${Version}' libjpeg62-turbo 2>/dev/null)"
"$out/crop-decode" "${1:-16}" "$out/jpeg"
