;; The keys of one string in a segment line (words, and n-grams inside space-free
;; tokens), hashed into a bloom filter: addStringWords of segment-words.ts, bit for bit, in WebAssembly. The bloom
;; worker runs it on every message ingested; compiled, this loop takes about
;; half the time of the JavaScript one.
;;
;; Memory, as segment-words-wasm.ts lays it out:
;;   0..255    each byte's lower-cased code if it is a word character, else 0 (WORD_BYTE)
;;   256..511  each byte's value as a hex digit, 16 for any other byte (HEX)
;;   then      the filter's bits, then the lines (with 8 spare bytes after them:
;;             a `\u` escape's four digits are loaded before they are bounds-checked)
;;
;; `npm run wasm` turns this file into message-words-wasm.ts.
(module
  (memory (export "memory") 1)

  ;; BloomFilter.add: four bits, by double hashing.
  (func $addHashes (param $bits i32) (param $mask i32) (param $h1 i32) (param $h2 i32)
    (local $step i32) (local $bit i32) (local $k i32) (local $addr i32)
    (local.set $step (i32.or (local.get $h2) (i32.const 1)))
    (local.set $k (i32.const 4))
    (loop $l
      (local.set $bit (i32.and (local.get $h1) (local.get $mask)))
      (local.set $addr (i32.add (local.get $bits) (i32.shl (i32.shr_u (local.get $bit) (i32.const 5)) (i32.const 2))))
      (i32.store (local.get $addr) (i32.or (i32.load (local.get $addr)) (i32.shl (i32.const 1) (local.get $bit))))
      (local.set $h1 (i32.add (local.get $h1) (local.get $step)))
      (local.set $k (i32.sub (local.get $k) (i32.const 1)))
      (br_if $l (local.get $k))))

  ;; The n-gram state of the string being read (endWord of segment-words.ts): the words of the
  ;; current space-free token so far, the previous word's key and the pair that ends with it.
  (global $prevWords (mut i32) (i32.const 0))
  (global $p1 (mut i32) (i32.const 0))
  (global $p2 (mut i32) (i32.const 0))
  (global $q1 (mut i32) (i32.const 0))
  (global $q2 (mut i32) (i32.const 0))

  ;; joinKey1 / joinKey2 of core/tokens.ts.
  (func $join1 (param $prev i32) (param $w i32) (result i32)
    (i32.xor (i32.mul (i32.xor (local.get $prev) (i32.const 0x27d4eb2f)) (i32.const 0x9e3779b1)) (local.get $w)))
  (func $join2 (param $prev i32) (param $w i32) (result i32)
    (i32.or (i32.xor (i32.mul (i32.xor (local.get $prev) (i32.const 0x165667b1)) (i32.const 0x85ebca77)) (local.get $w)) (i32.const 1)))

  ;; A word ends: its key, and those of the pair and triple it ends.
  (func $endWord (param $bits i32) (param $mask i32) (param $h1 i32) (param $h2 i32)
    (local $b i32)
    (local.set $b (i32.or (local.get $h2) (i32.const 1)))
    (call $addHashes (local.get $bits) (local.get $mask) (local.get $h1) (local.get $b))
    (if (i32.ge_u (global.get $prevWords) (i32.const 2))
      (then (call $addHashes (local.get $bits) (local.get $mask)
        (call $join1 (global.get $q1) (local.get $h1)) (call $join2 (global.get $q2) (local.get $b)))))
    (if (i32.ge_u (global.get $prevWords) (i32.const 1))
      (then
        (global.set $q1 (call $join1 (global.get $p1) (local.get $h1)))
        (global.set $q2 (call $join2 (global.get $p2) (local.get $b)))
        (call $addHashes (local.get $bits) (local.get $mask) (global.get $q1) (global.get $q2))))
    (global.set $p1 (local.get $h1))
    (global.set $p2 (local.get $b))
    (global.set $prevWords (i32.add (global.get $prevWords) (i32.const 1))))

  ;; The words of the JSON string whose content starts at $at; returns the address after
  ;; its closing quote, or of a raw newline, or $end, where a cut string stops.
  (func (export "words") (param $at i32) (param $end i32) (param $bits i32) (param $mask i32) (param $s1 i32) (param $s2 i32) (result i32)
    (local $h1 i32) (local $h2 i32) (local $inWord i32) (local $i i32) (local $c i32) (local $lc i32) (local $n i32) (local $u i32) (local $space i32)
    (local.set $h1 (local.get $s1))
    (local.set $h2 (local.get $s2))
    (global.set $prevWords (i32.const 0))
    (local.set $i (local.get $at))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $lc (i32.load8_u (local.get $c)))
        (if (i32.eqz (local.get $lc))
          (then
            (local.set $space (i32.eq (local.get $c) (i32.const 0x20)))
            (if (i32.eq (local.get $c) (i32.const 0x5c))
              (then
                ;; The byte after the backslash (none past the end).
                (local.set $n (if (result i32) (i32.lt_u (local.get $i) (local.get $end)) (then (i32.load8_u (local.get $i))) (else (i32.const 0))))
                (if (i32.and
                      (i32.and (i32.eq (local.get $n) (i32.const 0x75)) (i32.lt_u (i32.add (local.get $i) (i32.const 4)) (local.get $end)))
                      (i32.lt_u
                        (i32.or
                          (i32.or (i32.load8_u offset=256 (i32.load8_u offset=1 (local.get $i))) (i32.load8_u offset=256 (i32.load8_u offset=2 (local.get $i))))
                          (i32.or (i32.load8_u offset=256 (i32.load8_u offset=3 (local.get $i))) (i32.load8_u offset=256 (i32.load8_u offset=4 (local.get $i)))))
                        (i32.const 16)))
                  (then
                    ;; \uXXXX: a word character if it is one, or any non-ASCII one.
                    (local.set $u (i32.or
                      (i32.or (i32.shl (i32.load8_u offset=256 (i32.load8_u offset=1 (local.get $i))) (i32.const 12))
                              (i32.shl (i32.load8_u offset=256 (i32.load8_u offset=2 (local.get $i))) (i32.const 8)))
                      (i32.or (i32.shl (i32.load8_u offset=256 (i32.load8_u offset=3 (local.get $i))) (i32.const 4))
                              (i32.load8_u offset=256 (i32.load8_u offset=4 (local.get $i))))))
                    (local.set $i (i32.add (local.get $i) (i32.const 5)))
                    (local.set $lc (if (result i32) (i32.ge_u (local.get $u) (i32.const 128)) (then (local.get $u)) (else (i32.load8_u (local.get $u)))))
                    (local.set $space (call $isSpace (local.get $u))))
                  (else
                    ;; \" \\ \/ and the control-character escapes: none is a word character; \t \n \f \r are spaces.
                    (if (i32.ne (local.get $n) (i32.const 0x0a))
                      (then
                        (local.set $space (i32.or (i32.or (i32.eq (local.get $n) (i32.const 0x74)) (i32.eq (local.get $n) (i32.const 0x6e)))
                                                  (i32.or (i32.eq (local.get $n) (i32.const 0x66)) (i32.eq (local.get $n) (i32.const 0x72)))))
                        (local.set $i (i32.add (local.get $i) (i32.const 1)))))))))
            (if (i32.eqz (local.get $lc))
              (then
                (if (local.get $inWord)
                  (then
                    (call $endWord (local.get $bits) (local.get $mask) (local.get $h1) (local.get $h2))
                    (local.set $h1 (local.get $s1))
                    (local.set $h2 (local.get $s2))
                    (local.set $inWord (i32.const 0))))
                (if (local.get $space) (then (global.set $prevWords (i32.const 0))))
                (if (i32.eq (local.get $c) (i32.const 0x22)) (then (return (local.get $i))))
                (if (i32.eq (local.get $c) (i32.const 0x0a)) (then (return (i32.sub (local.get $i) (i32.const 1)))))
                (br $next)))))
        (local.set $h1 (i32.mul (i32.xor (local.get $h1) (local.get $lc)) (i32.const 0x01000193)))
        (local.set $h2 (i32.mul (i32.xor (local.get $h2) (local.get $lc)) (i32.const 0x5bd1e995)))
        (local.set $h2 (i32.xor (local.get $h2) (i32.shr_u (local.get $h2) (i32.const 15))))
        (local.set $inWord (i32.const 1))
        (br $next)))
    (if (local.get $inWord) (then (call $endWord (local.get $bits) (local.get $mask) (local.get $h1) (local.get $h2))))
    (local.get $i))

  ;; isSpaceCode of core/tokens.ts.
  (func $isSpace (param $c i32) (result i32)
    (i32.or (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.eq (local.get $c) (i32.const 0x09)))
            (i32.or (i32.or (i32.eq (local.get $c) (i32.const 0x0a)) (i32.eq (local.get $c) (i32.const 0x0c))) (i32.eq (local.get $c) (i32.const 0x0d)))))
)
