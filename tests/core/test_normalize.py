"""What the normaliser says for what an LLM writes: hand-written tables per language and
category (supertonic_core.normalize)."""

from __future__ import annotations

import pytest
from supertonic_core.normalize import speak

EN = [
    # cardinals, decimals, thousands, negatives
    ("I have 3 cats.", "I have three cats."),
    ("About 1,234,567 people.", "About one million two hundred and thirty-four thousand five hundred and sixty-seven people."),
    ("Pi is 3.14.", "Pi is three point one four."),
    ("It fell to -5 today.", "It fell to minus five today."),
    ("Version 1.2.3 is out.", "Version one point two point three is out."),
    # ordinals
    ("She came 1st, he came 22nd.", "She came first, he came twenty-second."),
    ("The 3rd and 4th rows.", "The third and fourth rows."),
    # percentages
    ("Up 45% this year.", "Up forty-five percent this year."),
    ("A -2.5% change.", "A minus two point five percent change."),
    # currency
    ("It costs $12.50.", "It costs twelve dollars fifty."),
    ("Only $1 each.", "Only one dollar each."),
    ("A €5 fee.", "A five euros fee."),
    ("£20 and 30 USD.", "twenty pounds sterling and thirty dollars."),
    ("They raised $2M.", "They raised two million dollars."),
    ("That is $3 billion.", "That is three billion dollars."),
    # dates, times, years
    ("Due 2026-12-01.", "Due December first twenty twenty-six."),
    ("Born 07/04/1999.", "Born July fourth nineteen ninety-nine."),
    ("Meet at 3:30 pm.", "Meet at three thirty p m."),
    ("Meet at 3:05 a.m. sharp.", "Meet at three oh five a m. sharp."),
    ("The train leaves at 15:45.", "The train leaves at fifteen forty-five."),
    ("Open at 10:00.", "Open at ten o'clock."),
    ("Built in 1999.", "Built in nineteen ninety-nine."),
    ("Since 2026 we grow.", "Since twenty twenty-six we grow."),
    ("Music of the 1990s.", "Music of the nineteen nineties."),
    ("By 2000 km it broke.", "By two thousand kilometers it broke."),
    # units
    ("Run 10 km daily.", "Run ten kilometers daily."),
    ("Only 1 km left.", "Only one kilometer left."),
    ("It weighs 2.5 kg.", "It weighs two point five kilograms."),
    ("Drive at 50 km/h.", "Drive at fifty kilometers per hour."),
    ("It is 21°C outside.", "It is twenty-one degrees Celsius outside."),
    ("A 16 GB card.", "A sixteen gigabytes card."),
    ("Wait 200 ms.", "Wait two hundred milliseconds."),
    # phone numbers
    ("Call +1 415 555 0100.", "Call plus one, four one five, five five five, zero one zero zero."),
    ("Or 415-555-0100.", "Or four one five, five five five, zero one zero zero."),
    # ranges
    ("Pages 3-5.", "Pages three to five."),
    ("Takes 10–15 minutes.", "Takes ten to fifteen minutes."),
    ("Costs $5-10.", "Costs five to ten dollars."),
    # roman numerals
    ("After World War II ended.", "After World War two ended."),
    ("King Louis XIV ruled.", "King Louis the fourteenth ruled."),
    ("Read Chapter IV now.", "Read Chapter four now."),
    ("I am here.", "I am here."),
    # e-mail and URLs
    ("Mail ann.lee@example.com today.", "Mail ann dot lee at example dot com today."),
    ("See https://www.example.com/docs?x=1 for more.", "See example dot com for more."),
    ("Visit openai.com now.", "Visit openai dot com now."),
    # abbreviations
    ("Dr. Smith and Mr. Jones.", "Doctor Smith and Mister Jones."),
    ("Apples, pears, etc. Then more.", "Apples, pears, et cetera. Then more."),
    ("Fruit, e.g. apples.", "Fruit, for example apples."),
    ("Tom & Jerry.", "Tom and Jerry."),
    # plain text stays as it is
    ("Hello, how are you today?", "Hello, how are you today?"),
]  # fmt: skip

MARKDOWN = [
    ("This is **bold** and *italic* and __under__.", "This is bold and italic and under."),
    ("## Results\nAll good.", "Results. All good."),
    ("- first item\n- second item", "first item. second item"),
    ("1. Step one\n2. Step two", "Step one. Step two"),
    ("See [the docs](https://example.com/docs) please.", "See the docs please."),
    ("![a cat](cat.png) sits.", "a cat sits."),
    ("Run `pip install x` now.", "Run pip install x now."),
    ("Code:\n```python\nprint(1)\n```\nDone.", "Code: Done."),
    ("| Name | Age |\n|---|---|\n| Ann | 30 |", "Name, Age. Ann, thirty."),
    ("> quoted text", "quoted text"),
    ("Text\n\n---\n\nMore.", "Text More."),
    ("~~old~~ new", "old new"),
    ("snake_case_name stays.", "snake_case_name stays."),
    ("Line one\nwraps here.", "Line one wraps here."),
]

PAUSES = [
    ("Wait [pause:500ms] now.", "Wait [pause:0.5] now."),
    ("Wait [pause:1.5s] now.", "Wait [pause:1.5] now."),
    ('Wait <break time="2s"/> now.', "Wait [pause:2] now."),
    ('Wait <break strength="strong"/> now.', "Wait [pause:0.7] now."),
    ("Wait <break/> now.", "Wait [pause:0.4] now."),
    ("Long [pause:60s] one.", "Long [pause:5] one."),
    ("Say \\[pause:1s] literally.", "Say [pause:1s] literally."),
]

EMOJI = [
    ("Great job 🎉!", "remove", "Great job !"),
    ("Great job 🎉!", "name", "Great job party popper !"),
    ("Thanks 👍🏽", "name", "Thanks thumbs up medium skin tone"),
    ("Merci 👍", "remove", "Merci"),
]

DE = [
    ("Es kostet 12,50 €.", "Es kostet zwölf Euro fünfzig."),
    ("Das sind 1.234 Leute.", "Das sind eintausendzweihundertvierunddreißig Leute."),
    ("Pi ist 3,14.", "Pi ist drei Komma eins vier."),
    ("Es hat -3 Grad.", "Es hat minus drei Grad."),
    ("Plus 50 % heute.", "Plus fünfzig Prozent heute."),
    ("Am 01.12.2026 geht es los.", "Am ersten Dezember zweitausendsechsundzwanzig geht es los."),
    ("Termin 2026-12-01.", "Termin erster Dezember zweitausendsechsundzwanzig."),
    ("Um 15:30 Uhr.", "Um fünfzehn Uhr dreißig Uhr."),
    ("Um 9:00.", "Um neun Uhr."),
    ("Noch 3,5 km.", "Noch drei Komma fünf Kilometer."),
    ("Es wiegt 2 kg.", "Es wiegt zwei Kilogramm."),
    ("Seiten 3-5.", "Seiten drei bis fünf."),
    (
        "Ruf +49 30 1234 5678 an.",
        "Ruf plus vier neun, drei null, eins zwei drei vier, fünf sechs sieben acht an.",
    ),
    ("Obst, z.B. Äpfel.", "Obst, zum Beispiel Äpfel."),
    ("Äpfel, Birnen usw. Dann mehr.", "Äpfel, Birnen und so weiter. Dann mehr."),
    ("Schreib an max@beispiel.de bitte.", "Schreib an max at beispiel Punkt de bitte."),
    ("Der Zweite Weltkrieg II endete.", "Der Zweite Weltkrieg zwei endete."),
    ("Kosten: $100.", "Kosten: einhundert Dollar."),
    ("Seit 1999 gilt das.", "Seit neunzehnhundertneunundneunzig gilt das."),
    (
        "Im Jahr 2026 kommen 1999 Leute.",
        "Im Jahr zweitausendsechsundzwanzig kommen eintausendneunhundertneunundneunzig Leute.",
    ),
    ("Es kostet bis 2000 €.", "Es kostet bis zweitausend Euro."),
    ("Hallo, wie geht's?", "Hallo, wie geht's?"),
]

FR = [
    ("Il coûte 12,50 €.", "Il coûte douze euros cinquante."),
    ("Il y a 1 234 personnes.", "Il y a mille deux cent trente-quatre personnes."),
    ("Pi vaut 3,14.", "Pi vaut trois virgule quatorze."),
    ("Il fait -5 degrés.", "Il fait moins cinq degrés."),
    ("Une hausse de 20 %.", "Une hausse de vingt pour cent."),
    ("Le 1er janvier.", "Le premier janvier."),
    ("La 2e place.", "La deuxième place."),
    ("Rendez-vous le 2026-12-01.", "Rendez-vous le premier décembre deux mille vingt-six."),
    ("Le 14/07/1789.", "Le quatorze juillet mille sept cent quatre-vingt-neuf."),
    ("À 15:30.", "À quinze heures trente."),
    ("À 1:00.", "À une heure."),
    ("Encore 10 km.", "Encore dix kilomètres."),
    ("Pages 3-5.", "Pages trois à cinq."),
    ("Louis XIV régnait.", "Louis quatorze régnait."),
    ("M. Dupont arrive.", "Monsieur Dupont arrive."),
    ("Écrivez à jean@exemple.fr.", "Écrivez à jean arobase exemple point fr."),
    ("Bonjour, ça va ?", "Bonjour, ça va ?"),
]

ES = [
    ("Cuesta 12,50 €.", "Cuesta doce euros cincuenta."),
    ("Hay 1.234 personas.", "Hay mil doscientos treinta y cuatro personas."),
    ("Pi es 3,14.", "Pi es tres coma catorce."),
    ("Hace -5 grados.", "Hace menos cinco grados."),
    ("Sube un 20 %.", "Sube un veinte por ciento."),
    ("El 1º y la 2ª.", "El primero y la segunda."),
    ("El 2026-12-01.", "El uno de diciembre de dos mil veintiséis."),
    ("A las 15:30.", "A las quince treinta."),
    ("Faltan 10 km.", "Faltan diez kilómetros."),
    ("Páginas 3-5.", "Páginas tres a cinco."),
    ("Felipe II reinó.", "Felipe segundo reinó."),
    ("El Sr. García llegó.", "El señor García llegó."),
    ("Cuesta $20.", "Cuesta veinte dólares."),
    ("Hola, ¿qué tal?", "Hola, ¿qué tal?"),
]

PT = [
    ("Custa R$ 12,50.", "Custa doze reais cinquenta."),
    ("São 1.234 pessoas.", "São mil duzentos e trinta e quatro pessoas."),
    ("Pi é 3,14.", "Pi é três vírgula catorze."),
    ("Faz -5 graus.", "Faz menos cinco graus."),
    ("Subiu 20 %.", "Subiu vinte por cento."),
    ("O 1º lugar.", "O primeiro lugar."),
    ("Em 2026-12-01.", "Em primeiro de dezembro de dois mil e vinte e seis."),
    ("Às 15:30.", "Às quinze e trinta."),
    ("Faltam 10 km.", "Faltam dez quilômetros."),
    ("Páginas 3-5.", "Páginas três a cinco."),
    ("O Dr. Silva chegou.", "O doutor Silva chegou."),
    ("Custa €20.", "Custa vinte euros."),
]

IT = [
    ("Costa 12,50 €.", "Costa dodici euro cinquanta."),
    ("Ci sono 1.234 persone.", "Ci sono milleduecentotrentaquattro persone."),
    ("Pi è 3,14.", "Pi è tre virgola quattordici."),
    ("Fa -5 gradi.", "Fa meno cinque gradi."),
    ("Sale del 20 %.", "Sale del venti per cento."),
    ("Il 1º posto e la 2ª.", "Il primo posto e la seconda."),
    ("Il 2026-12-01.", "Il primo dicembre duemilaventisei."),
    ("Alle 15:30.", "Alle quindici e trenta."),
    ("Mancano 10 km.", "Mancano dieci chilometri."),
    ("Pagine 3-5.", "Pagine tre a cinque."),
    ("Luigi XIV regnò.", "Luigi quattordicesimo regnò."),
    ("Frutta, ecc. Poi altro.", "Frutta, eccetera. Poi altro."),
]

RU = [
    ("Стоит 12,50 €.", "Стоит двенадцать евро пятьдесят."),
    ("Там 1 234 человека.", "Там одна тысяча двести тридцать четыре человека."),
    ("Пи равно 3,14.", "Пи равно три целых четырнадцать сотых."),
    ("Было -5 градусов.", "Было минус пять градусов."),
    ("Рост 21 %.", "Рост двадцать один процент."),
    ("Рост 50 %.", "Рост пятьдесят процентов."),
    ("Это 1-я глава и 2-й том.", "Это первая глава и второй том."),
    ("Дата 2026-12-01.", "Дата первое декабря две тысячи двадцать шестого года."),
    ("В 15:30.", "В пятнадцать тридцать."),
    ("В 9:05.", "В девять ноль пять."),
    ("Ещё 3 км.", "Ещё три километра."),
    ("Ещё 5 км.", "Ещё пять километров."),
    ("Страницы 3-5.", "Страницы три-пять."),
    ("Пётр I правил.", "Пётр первый правил."),
    ("Яблоки, груши и т.д. Потом.", "Яблоки, груши и так далее. Потом."),
    ("Стоит 100 ₽.", "Стоит сто рублей."),
]

KO = [
    ("사과 3개를 샀다.", "사과 세 개를 샀다."),
    ("학생 20명이 왔다.", "학생 스무 명이 왔다."),
    ("지금 3시 30분이다.", "지금 세 시 삼십분이다."),
    ("회의는 15:30에 시작한다.", "회의는 열다섯 시 삼십 분에 시작한다."),
    ("가격은 $12.50이다.", "가격은 십이 점 오 달러이다."),
    ("가격은 5,000원이다.", "가격은 오천원이다."),
    ("날짜는 2026-12-01이다.", "날짜는 이천이십육년 십이월 일일이다."),
    ("6월이 아니라 2026-06-10이다.", "육월이 아니라 이천이십육년 유월 십일이다."),
    ("성장률은 50%이다.", "성장률은 오십 퍼센트이다."),
    ("거리는 10km이다.", "거리는 십 킬로미터이다."),
    ("온도는 -5도이다.", "온도는 마이너스 오도이다."),
    ("1번째 시도.", "첫 번째 시도."),
    ("값은 3.14이다.", "값은 삼 점 일 사이다."),
    ("안녕하세요, 반갑습니다.", "안녕하세요, 반갑습니다."),
]

JA = [
    ("りんごを3個買った。", "りんごを三個買った。"),
    ("価格は$12.50です。", "価格は十二点五ドルです。"),
    ("価格は1,000円です。", "価格は千円です。"),
    ("日付は2026-12-01です。", "日付は二千二十六年十二月一日です。"),
    ("時刻は15:30です。", "時刻は十五時三十分です。"),
    ("成長率は50%です。", "成長率は五十パーセントです。"),
    ("距離は10kmです。", "距離は十キロメートルです。"),
    ("気温は-5度です。", "気温はマイナス五度です。"),
    ("円周率は3.14です。", "円周率は三点一四です。"),
    ("こんにちは、元気ですか。", "こんにちは、元気ですか。"),
]

OTHERS = [
    ("nl", "Het kost 3,5 procent of 50 %.", "Het kost drie komma vijf procent of vijftig procent."),
    ("nl", "Pagina 3-5.", "Pagina drie tot vijf."),
    ("pl", "Mam 3 koty i -2 psy.", "Mam trzy koty i minus dwa psy."),
    ("pl", "To 50 %.", "To pięćdziesiąt procent."),
    ("cs", "Je to 21 %.", "Je to dvacet jedna procent."),
    ("sk", "Mám 5 jabĺk.", "Mám päť jabĺk."),
    ("sv", "Det är 1 234 personer.", "Det är ettusen tvåhundratrettiofyra personer."),
    ("da", "Det er 12,5 procent.", "Det er tolv komma fem procent."),
    ("fi", "Se on 3,5 %.", "Se on kolme pilkku viisi prosenttia."),
    ("hu", "Ez 50 %.", "Ez ötven százalék."),
    ("id", "Harganya 1.500 rupiah.", "Harganya seribu lima ratus rupiah."),
    ("ro", "Sunt 20 %.", "Sunt douăzeci la sută."),
    ("tr", "%50 indirim.", "yüzde elli indirim."),
    ("uk", "Це 7 днів.", "Це сім днів."),
    ("lt", "Tai 3 dienos.", "Tai trys dienos."),
    ("lv", "Tās ir 3 dienas.", "Tās ir trīs dienas."),
    ("sl", "To je 5 dni.", "To je pet dni."),
    ("vi", "Giá 12,5 đô.", "Giá mười hai phẩy năm đô."),
    ("ar", "لدي 3 كتب.", "لدي ثلاثة كتب."),
    # no number words in num2words: digits stay, markup still goes
    ("el", "Τιμή **12,50** ευρώ.", "Τιμή 12,50 ευρώ."),
    ("bg", "Цена 12 лв.", "Цена 12 лв."),
    ("hi", "कीमत 12 रुपये है।", "कीमत 12 रुपये है।"),
    ("hr", "Cijena je *12* kuna.", "Cijena je 12 kuna."),
    ("et", "Hind on 12 eurot.", "Hind on 12 eurot."),
]

#: Written forms a person reads at another length (issue 27): scales, times, dimensions,
#: "about", out-of ratings, fractions, "#", long digit runs, am/pm, time ranges, Roman
#: numerals past XXXIX, German ordinal dots and Turkish numbers; the seven fully covered
#: languages each.
LENGTHS = [
    ("en", "It has 1.5M users.", "It has one point five million users."),
    ("en", "We hit 10k stars.", "We hit ten thousand stars."),
    ("en", "It is 3x faster.", "It is three times faster."),
    ("en", "The screen is 1920x1080.", "The screen is one thousand nine hundred and twenty by one thousand and eighty."),
    ("en", "Some ~50 people.", "Some about fifty people."),
    ("en", "Over 10,000+ sales.", "Over ten thousand plus sales."),
    ("en", "Growth of +5% today.", "Growth of plus five percent today."),
    ("en", "We are #1 again.", "We are number one again."),
    ("en", "Add 1/2 cup.", "Add one half cup."),
    ("en", "Rated 4.5/5 by users.", "Rated four point five out of five by users."),
    ("en", "Meet at 3pm.", "Meet at three p m."),
    ("en", "Open 9am-5pm daily.", "Open nine a m to five p m daily."),
    ("en", "Open 9:00-17:00 daily.", "Open nine o'clock to seventeen o'clock daily."),
    ("en", "Order 48213579 shipped.", "Order four eight two one three five seven nine shipped."),
    ("en", "Ticket #48213 is open.", "Ticket number four eight two one three is open."),
    ("en", "Chapter XLII begins.", "Chapter forty-two begins."),
    ("en", "Super Bowl LVIII was close.", "Super Bowl fifty-eight was close."),
    ("en", "Pope Leo XIV spoke.", "Pope Leo the fourteenth spoke."),
    ("en", "Then I left.", "Then I left."),
    ("en", "Washington DC is big.", "Washington DC is big."),
    ("en", "Back in the 90s it was.", "Back in the nineties it was."),
    ("en", "It took 5 secs.", "It took five seconds."),
    ("en", "Turn 45° left.", "Turn forty-five degrees left."),
    ("de", "Am 3. Mai geht es los.", "Am dritten Mai geht es los."),
    ("de", "Der 2. Platz ist gut.", "Der zweite Platz ist gut."),
    ("de", "Bis zum 24. Dezember.", "Bis zum vierundzwanzigsten Dezember."),
    ("de", "Heute ist der 3. Oktober.", "Heute ist der dritte Oktober."),
    ("de", "Das ist Teil 3. Danach kam er.", "Das ist Teil drei. Danach kam er."),
    ("de", "Ludwig XIV regierte.", "Ludwig der Vierzehnte regierte."),
    ("de", "Kapitel XLII beginnt.", "Kapitel zweiundvierzig beginnt."),
    ("de", "Es hat 1,5 Mio. Nutzer.", "Es hat eins Komma fünf Millionen Nutzer."),
    ("de", "Es kostet 2,5 Mio. €.", "Es kostet zwei Komma fünf Millionen Euro."),
    ("de", "Wir haben 10k Sterne.", "Wir haben zehntausend Sterne."),
    ("de", "Es ist 3x schneller.", "Es ist drei mal schneller."),
    ("de", "Rund ~50 Leute.", "Rund etwa fünfzig Leute."),
    ("de", "Bewertung 4,5/5.", "Bewertung vier Komma fünf von fünf."),
    ("de", "Nimm 1/2 Tasse.", "Nimm ein halb Tasse."),
    ("de", "Wir sind #1.", "Wir sind Nummer eins."),
    ("de", "Das dauert 5 Sek.", "Das dauert fünf Sekunden."),
    ("de", "Von 9:00-17:00 offen.", "Von neun Uhr bis siebzehn Uhr offen."),
    ("fr", "Louis XIV régnait.", "Louis quatorze régnait."),
    ("fr", "Chapitre XLII.", "Chapitre quarante-deux."),
    ("fr", "Il a 1,5M d'utilisateurs.", "Il a un virgule cinq million d'utilisateurs."),
    ("fr", "Il a 10k abonnés.", "Il a dix mille abonnés."),
    ("fr", "C'est 3x plus rapide.", "C'est trois fois plus rapide."),
    ("fr", "Écran 1920x1080.", "Écran mille neuf cent vingt par mille quatre-vingts."),
    ("fr", "Près de ~50 personnes.", "Près de environ cinquante personnes."),
    ("fr", "Noté 4,5/5.", "Noté quatre virgule cinq sur cinq."),
    ("fr", "Ajoutez 1/2 tasse.", "Ajoutez un demi tasse."),
    ("fr", "Nous sommes #1.", "Nous sommes numéro un."),
    ("es", "Luis XIV reinó.", "Luis catorce reinó."),
    ("es", "Tiene 1,5M usuarios.", "Tiene uno coma cinco millones usuarios."),
    ("es", "Tiene 10k seguidores.", "Tiene diez mil seguidores."),
    ("es", "Es 3x más rápido.", "Es tres veces más rápido."),
    ("es", "Pantalla 1920x1080.", "Pantalla mil novecientos veinte por mil ochenta."),
    ("es", "Unas ~50 personas.", "Unas aproximadamente cincuenta personas."),
    ("es", "Nota 4,5/5.", "Nota cuatro coma cinco de cinco."),
    ("es", "Añade 1/2 taza.", "Añade un medio taza."),
    ("es", "Somos el #1.", "Somos el número uno."),
    ("pt", "Luís XIV reinou.", "Luís catorze reinou."),
    ("pt", "Tem 2,5M usuários.", "Tem dois vírgula cinco milhões usuários."),
    ("pt", "Tem 10k seguidores.", "Tem dez mil seguidores."),
    ("pt", "É 3x mais rápido.", "É três vezes mais rápido."),
    ("pt", "Umas ~50 pessoas.", "Umas cerca de cinquenta pessoas."),
    ("pt", "Nota 4,5/5.", "Nota quatro vírgula cinco de cinco."),
    ("pt", "Adicione 1/2 xícara.", "Adicione um meio xícara."),
    ("pt", "Somos o #1.", "Somos o número um."),
    ("it", "Luigi XIV regnò.", "Luigi quattordicesimo regnò."),
    ("it", "Ha 1,5M utenti.", "Ha uno virgola cinque milioni utenti."),
    ("it", "Ha 10k follower.", "Ha diecimila follower."),
    ("it", "È 3x più veloce.", "È tre volte più veloce."),
    ("it", "Sono ~50 persone.", "Sono circa cinquanta persone."),
    ("it", "Voto 4,5/5.", "Voto quattro virgola cinque su cinque."),
    ("it", "Aggiungi 1/2 tazza.", "Aggiungi un mezzo tazza."),
    ("it", "Siamo il #1.", "Siamo il numero uno."),
    ("ru", "Людовик XIV правил.", "Людовик четырнадцатый правил."),
    ("ru", "У нас 1,5M пользователей.", "У нас одна целая пять десятых миллиона пользователей."),
    ("ru", "Это 10k подписчиков.", "Это десять тысяч подписчиков."),
    ("ru", "Это в 3x быстрее.", "Это в три раза быстрее."),
    ("ru", "Пришли ~50 человек.", "Пришли примерно пятьдесят человек."),
    ("ru", "Оценка 4,5/5.", "Оценка четыре целых пять десятых из пяти."),
    ("ru", "Мы #1.", "Мы номер один."),
    ("ru", "Ждать 5 сек.", "Ждать пять секунд."),
    # the same rules in the other languages: dimensions, ids, time ranges, signs
    ('de', 'Auflösung 1920x1080.', 'Auflösung eintausendneunhundertzwanzig mal eintausendachtzig.'),
    ('de', 'Bestellung 48213579 ist da.', 'Bestellung vier acht zwei eins drei fünf sieben neun ist da.'),
    ('de', 'Offen 9:00-17:00.', 'Offen neun Uhr bis siebzehn Uhr.'),
    ('de', 'Plus +5% heute.', 'Plus plus fünf Prozent heute.'),
    ('de', 'Über 10.000+ Kunden.', 'Über zehntausend plus Kunden.'),
    ('de', 'Ticket #48213 offen.', 'Ticket Nummer vier acht zwei eins drei offen.'),
    ('fr', 'Ouvert 9:00-17:00.', 'Ouvert neuf heures à dix-sept heures.'),
    ('fr', 'Commande 48213579 partie.', 'Commande quatre huit deux un trois cinq sept neuf partie.'),
    ('fr', 'Hausse de +5% cette année.', 'Hausse de plus cinq pour cent cette année.'),
    ('fr', 'Plus de 10 000+ clients.', 'Plus de dix mille plus clients.'),
    ('fr', 'Ticket #48213 ouvert.', 'Ticket numéro quatre huit deux un trois ouvert.'),
    ('es', 'Abierto 9:00-17:00.', 'Abierto nueve a diecisiete.'),
    ('es', 'Pedido 48213579 enviado.', 'Pedido cuatro ocho dos uno tres cinco siete nueve enviado.'),
    ('es', 'Subida de +5% hoy.', 'Subida de más cinco por ciento hoy.'),
    ('es', 'Más de 10.000+ clientes.', 'Más de diez mil más clientes.'),
    ('es', 'Ticket #48213 abierto.', 'Ticket número cuatro ocho dos uno tres abierto.'),
    ('pt', 'Tela 1920x1080.', 'Tela mil novecentos e vinte por mil e oitenta.'),
    ('pt', 'Aberto 9:00-17:00.', 'Aberto nove a dezassete.'),
    ('pt', 'Pedido 48213579 enviado.', 'Pedido quatro oito dois um três cinco sete nove enviado.'),
    ('pt', 'Alta de +5% hoje.', 'Alta de mais cinco por cento hoje.'),
    ('pt', 'Mais de 10.000+ clientes.', 'Mais de dez mil mais clientes.'),
    ('it', 'Schermo 1920x1080.', 'Schermo millenovecentoventi per milleottanta.'),
    ('it', 'Aperto 9:00-17:00.', 'Aperto nove a diciassette.'),
    ('it', 'Ordine 48213579 spedito.', 'Ordine quattro otto due uno tre cinque sette nove spedito.'),
    ('it', 'Crescita del +5% oggi.', 'Crescita del più cinque per cento oggi.'),
    ('it', 'Oltre 10.000+ clienti.', 'Oltre diecimila più clienti.'),
    ('ru', 'Экран 1920x1080.', 'Экран одна тысяча девятьсот двадцать на одна тысяча восемьдесят.'),
    ('ru', 'Открыто 9:00-17:00.', 'Открыто девять-семнадцать.'),
    ('ru', 'Заказ 48213579 отправлен.', 'Заказ четыре восемь два один три пять семь девять отправлен.'),
    ('ru', 'Рост +5% сегодня.', 'Рост плюс пять процентов сегодня.'),
    ('ru', 'Более 10 000+ клиентов.', 'Более десять тысяч плюс клиентов.'),
    ('ru', 'Добавьте 1/2 стакана.', 'Добавьте одна вторая стакана.'),
    ('ru', 'Тикет #48213 открыт.', 'Тикет номер четыре восемь два один три открыт.'),
    ("tr", "Bu 3. sınıf.", "Bu üçüncü sınıf."),
    ("tr", "Toplam 1234 kişi.", "Toplam bin iki yüz otuz dört kişi."),
    ("tr", "Fiyat 12,50 ₺.", "Fiyat on iki lira elli."),
    ("tr", "Mesafe 5 km.", "Mesafe beş kilometre."),
    ("tr", "Tam 10k kullanıcı.", "Tam on bin kullanıcı."),
    ("tr", "Tarih 2026-12-01.", "Tarih bir Aralık iki bin yirmi altı."),
    ("tr", "Bu 3x daha hızlı.", "Bu üç kat daha hızlı."),
    ("tr", "Sayfa 3-5.", "Sayfa üç ile beş."),
]  # fmt: skip


@pytest.mark.parametrize(("text", "spoken"), EN)
def test_english(text: str, spoken: str) -> None:
    assert speak(text, "en") == spoken


@pytest.mark.parametrize(("text", "spoken"), MARKDOWN)
def test_markdown(text: str, spoken: str) -> None:
    assert speak(text, "en") == spoken


@pytest.mark.parametrize(("text", "spoken"), PAUSES)
def test_pauses(text: str, spoken: str) -> None:
    assert speak(text, "en") == spoken


@pytest.mark.parametrize(("text", "choice", "spoken"), EMOJI)
def test_emoji(text: str, choice: str, spoken: str) -> None:
    assert speak(text, "en", emoji=choice) == spoken


@pytest.mark.parametrize(
    ("lang", "text", "spoken"),
    [("de", t, s) for t, s in DE]
    + [("fr", t, s) for t, s in FR]
    + [("es", t, s) for t, s in ES]
    + [("pt", t, s) for t, s in PT]
    + [("it", t, s) for t, s in IT]
    + [("ru", t, s) for t, s in RU]
    + [("ko", t, s) for t, s in KO]
    + [("ja", t, s) for t, s in JA]
    + OTHERS
    + LENGTHS,
)
def test_languages(lang: str, text: str, spoken: str) -> None:
    assert speak(text, lang) == spoken
