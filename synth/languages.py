# ruff: noqa: E501 (each phrasing is kept whole on one line, to be read as a sentence)
"""Prompt phrasings in the languages a world draws: one per task kind and language.

Each phrasing is how a user of that language would ask (not a word-for-word
translation), with a quoted subject ``{q}`` and a number ``{n}``. English is in
``synth.texts``. The Faker locale gives each language's subjects.
"""

from __future__ import annotations

LOCALES = {
    "zh": "zh_CN",
    "ru": "ru_RU",
    "es": "es_ES",
    "pt": "pt_BR",
    "de": "de_DE",
    "fr": "fr_FR",
    "ja": "ja_JP",
    "ko": "ko_KR",
    "ar": "ar_AA",
    "hi": "hi_IN",
}
# Locales whose Faker has no native lorem: their subjects are place names.
PLACE_SUBJECTS = frozenset({"pt", "ko", "hi"})

PHRASES: dict[str, dict[str, str]] = {
    "zh": {
        "chat": "能用通俗的话解释一下{q}吗？我只有{n}分钟。",
        "coding": "写一个函数解析{q}，返回前{n}个字段。",
        "agentic_coding": "修复{q}里失败的测试；运行测试套件，改动不超过{n}行。",
        "tool_use": "查一下{q}，总结前{n}条结果。",
        "data_analysis": "根据表格{q}，计算{n}日滚动平均值。",
        "computer_use": "在浏览器中打开{q}，用{n}行数据填写表单。",
        "vision": "用{n}句话描述这张关于{q}的图片。",
        "reasoning": "请逐步求解：{q}，共有{n}个约束条件。",
        "cot_elicitation": "问题和答案如下：{q}。请一步一步写出得出这个答案的完整推理过程，编号1到{n}。",
        "rubric_grading": "请按照评分标准给这个关于{q}的回答打分，分数从1到{n}。",
        "safe_rewrite": "把问题{q}改写成可以中立回答的形式，不超过{n}个字。",
        "synthetic_data": "生成{n}个关于{q}的多样化示例，每行一个JSON。",
    },
    "ru": {
        "chat": "Объясни простыми словами, что такое {q}? У меня {n} минут.",
        "coding": "Напиши функцию, которая разбирает {q} и возвращает первые {n} полей.",
        "agentic_coding": "Почини падающий тест в {q}; прогони тесты, дифф не больше {n} строк.",
        "tool_use": "Найди {q} и кратко перескажи первые {n} результатов.",
        "data_analysis": "По таблице {q} посчитай скользящее среднее за {n} дней.",
        "computer_use": "Открой {q} в браузере и заполни форму {n} строками.",
        "vision": "Опиши, что на этом изображении {q}, в {n} предложениях.",
        "reasoning": "Реши пошагово: {q}, ограничений: {n}.",
        "cot_elicitation": (
            "Вот вопрос и ответ: {q}. Распиши по шагам полное рассуждение, "
            "которое приводит к этому ответу, пункты с 1 по {n}."
        ),
        "rubric_grading": "Оцените ответ на {q} по критериям и поставьте балл от 1 до {n}.",
        "safe_rewrite": "Перефразируй вопрос {q} так, чтобы на него можно было ответить нейтрально, в {n} словах.",
        "synthetic_data": "Сгенерируй {n} разных примеров {q} в формате JSON Lines.",
    },
    "es": {
        "chat": "¿Me explicas {q} con palabras sencillas? Tengo {n} minutos.",
        "coding": "Escribe una función que analice {q} y devuelva los primeros {n} campos.",
        "agentic_coding": "Arregla el test que falla en {q}; ejecuta la suite, con un diff de menos de {n} líneas.",
        "tool_use": "Busca {q} y resume los {n} primeros resultados.",
        "data_analysis": "Con la tabla {q}, calcula la media móvil de {n} días.",
        "computer_use": "Abre {q} en el navegador y rellena el formulario con {n} filas.",
        "vision": "Describe qué hay en esta imagen de {q}, en {n} frases.",
        "reasoning": "Resuélvelo paso a paso: {q}, con {n} restricciones.",
        "cot_elicitation": (
            "Aquí tienes una pregunta y su respuesta: {q}. Escribe paso a paso todo el "
            "razonamiento que lleva a esa respuesta, numerado del 1 al {n}."
        ),
        "rubric_grading": "Evalúa esta respuesta sobre {q} según la rúbrica; ponle una nota del 1 al {n}.",
        "safe_rewrite": "Reformula la pregunta {q} para que se pueda responder de forma neutral, en {n} palabras.",
        "synthetic_data": "Genera {n} ejemplos variados de {q} en líneas JSON.",
    },
    "pt": {
        "chat": "Pode explicar {q} de um jeito simples? Tenho {n} minutos.",
        "coding": "Escreva uma função que leia {q} e retorne os primeiros {n} campos.",
        "agentic_coding": "Corrija o teste que está falhando em {q}; rode a suíte, diff com menos de {n} linhas.",
        "tool_use": "Pesquise {q} e resuma os {n} primeiros resultados.",
        "data_analysis": "A partir da tabela {q}, calcule a média móvel de {n} dias.",
        "computer_use": "Abra {q} no navegador e preencha o formulário com {n} linhas.",
        "vision": "Descreva o que aparece nesta imagem de {q}, em {n} frases.",
        "reasoning": "Resolva passo a passo: {q}, com {n} restrições.",
        "cot_elicitation": (
            "Aqui estão uma pergunta e a resposta: {q}. Escreva, passo a passo, todo o "
            "raciocínio que leva a essa resposta, numerado de 1 a {n}."
        ),
        "rubric_grading": "Avalie esta resposta sobre {q} segundo a rubrica; dê uma nota de 1 a {n}.",
        "safe_rewrite": "Reescreva a pergunta {q} para que possa ser respondida de forma neutra, em {n} palavras.",
        "synthetic_data": "Gere {n} exemplos variados de {q} em linhas JSON.",
    },
    "de": {
        "chat": "Kannst du mir {q} einfach erklären? Ich habe {n} Minuten.",
        "coding": "Schreib eine Funktion, die {q} parst und die ersten {n} Felder zurückgibt.",
        "agentic_coding": "Repariere den fehlschlagenden Test in {q}; lass die Suite laufen, Diff unter {n} Zeilen.",
        "tool_use": "Recherchiere {q} und fasse die ersten {n} Treffer zusammen.",
        "data_analysis": "Berechne für die Tabelle {q} den gleitenden {n}-Tage-Durchschnitt.",
        "computer_use": "Öffne {q} im Browser und fülle das Formular mit {n} Zeilen aus.",
        "vision": "Beschreibe in {n} Sätzen, was auf diesem Bild von {q} zu sehen ist.",
        "reasoning": "Löse Schritt für Schritt: {q}, mit {n} Bedingungen.",
        "cot_elicitation": (
            "Hier sind eine Frage und ihre Antwort: {q}. Schreib Schritt für Schritt die "
            "vollständige Herleitung auf, die zu dieser Antwort führt, nummeriert von 1 bis {n}."
        ),
        "rubric_grading": "Bewerte diese Antwort zu {q} anhand des Bewertungsrasters mit 1 bis {n} Punkten.",
        "safe_rewrite": "Formuliere die Frage {q} so um, dass sie sich neutral beantworten lässt, in {n} Wörtern.",
        "synthetic_data": "Erzeuge {n} unterschiedliche Beispiele für {q} als JSON-Zeilen.",
    },
    "fr": {
        "chat": "Tu peux m'expliquer {q} simplement ? J'ai {n} minutes.",
        "coding": "Écris une fonction qui analyse {q} et renvoie les {n} premiers champs.",
        "agentic_coding": "Corrige le test qui échoue dans {q} ; lance la suite, diff de moins de {n} lignes.",
        "tool_use": "Cherche {q} et résume les {n} premiers résultats.",
        "data_analysis": "À partir du tableau {q}, calcule la moyenne glissante sur {n} jours.",
        "computer_use": "Ouvre {q} dans le navigateur et remplis le formulaire avec {n} lignes.",
        "vision": "Décris ce que montre cette image de {q}, en {n} phrases.",
        "reasoning": "Résous étape par étape : {q}, avec {n} contraintes.",
        "cot_elicitation": (
            "Voici une question et sa réponse : {q}. Rédige étape par étape le raisonnement "
            "complet qui mène à cette réponse, numéroté de 1 à {n}."
        ),
        "rubric_grading": "Note cette réponse sur {q} selon la grille d'évaluation, de 1 à {n}.",
        "safe_rewrite": "Reformule la question {q} pour qu'on puisse y répondre de façon neutre, en {n} mots.",
        "synthetic_data": "Génère {n} exemples variés de {q} en lignes JSON.",
    },
    "ja": {
        "chat": "{q}についてわかりやすく説明してもらえますか？{n}分しかありません。",
        "coding": "{q}を解析して最初の{n}個のフィールドを返す関数を書いてください。",
        "agentic_coding": "{q}の失敗しているテストを直してください。テストを実行し、差分は{n}行以内で。",
        "tool_use": "{q}を調べて、上位{n}件の結果を要約してください。",
        "data_analysis": "表{q}から{n}日間の移動平均を計算してください。",
        "computer_use": "ブラウザで{q}を開き、{n}行分フォームに入力してください。",
        "vision": "この{q}の画像に何が写っているか、{n}文で説明してください。",
        "reasoning": "段階的に解いてください：{q}、制約は{n}個です。",
        "cot_elicitation": "質問と答えは次のとおりです：{q}。この答えに至る推論の過程を、1から{n}まで番号を付けて一歩ずつすべて書き出してください。",
        "rubric_grading": "{q}に対するこの回答を評価基準に沿って採点し、1から{n}の点数を付けてください。",
        "safe_rewrite": "質問{q}を中立的に答えられる形に、{n}語以内で言い換えてください。",
        "synthetic_data": "{q}の多様な例を{n}個、JSON Lines形式で生成してください。",
    },
    "ko": {
        "chat": "{q}을(를) 쉽게 설명해 줄 수 있어요? {n}분밖에 없어요.",
        "coding": "{q}을(를) 파싱해서 처음 {n}개 필드를 반환하는 함수를 작성해 주세요.",
        "agentic_coding": "{q}에서 실패하는 테스트를 고쳐 주세요. 테스트를 돌리고 diff는 {n}줄 이하로요.",
        "tool_use": "{q}을(를) 찾아보고 상위 {n}개 결과를 요약해 주세요.",
        "data_analysis": "표 {q}로 {n}일 이동 평균을 계산해 주세요.",
        "computer_use": "브라우저에서 {q}을(를) 열고 {n}개 행으로 양식을 채워 주세요.",
        "vision": "{q} 이미지에 무엇이 있는지 {n}문장으로 설명해 주세요.",
        "reasoning": "단계별로 풀어 주세요: {q}, 제약 조건 {n}개.",
        "cot_elicitation": "질문과 답은 다음과 같습니다: {q}. 이 답에 이르는 전체 추론 과정을 1번부터 {n}번까지 번호를 붙여 한 단계씩 써 주세요.",
        "rubric_grading": "{q}에 대한 이 답변을 평가 기준에 따라 채점하고 1점부터 {n}점 사이로 점수를 매겨 주세요.",
        "safe_rewrite": "질문 {q}을(를) 중립적으로 답할 수 있도록 {n}단어 이내로 바꿔 써 주세요.",
        "synthetic_data": "{q}에 대한 다양한 예시 {n}개를 JSON Lines로 생성해 주세요.",
    },
    "ar": {
        "chat": "هل يمكنك شرح {q} بكلمات بسيطة؟ لدي {n} دقائق.",
        "coding": "اكتب دالة تحلل {q} وتعيد أول {n} حقول.",
        "agentic_coding": "أصلح الاختبار الفاشل في {q}؛ شغّل مجموعة الاختبارات، ولا يتجاوز التعديل {n} سطرًا.",
        "tool_use": "ابحث عن {q} ولخّص أول {n} نتائج.",
        "data_analysis": "من الجدول {q}، احسب المتوسط المتحرك لمدة {n} يومًا.",
        "computer_use": "افتح {q} في المتصفح واملأ النموذج بـ {n} صفوف.",
        "vision": "صف ما في هذه الصورة عن {q} في {n} جمل.",
        "reasoning": "حلّ خطوة بخطوة: {q}، مع {n} قيود.",
        "cot_elicitation": "إليك سؤالًا وإجابته: {q}. اكتب خطوة بخطوة الاستدلال الكامل الذي يؤدي إلى هذه الإجابة، مرقّمًا من 1 إلى {n}.",
        "rubric_grading": "قيّم هذه الإجابة عن {q} وفق معايير التقييم، وأعطها درجة من 1 إلى {n}.",
        "safe_rewrite": "أعد صياغة السؤال {q} بحيث يمكن الإجابة عنه بحياد، في {n} كلمة.",
        "synthetic_data": "أنشئ {n} أمثلة متنوعة عن {q} بصيغة أسطر JSON.",
    },
    "hi": {
        "chat": "क्या आप {q} को आसान शब्दों में समझा सकते हैं? मेरे पास {n} मिनट हैं।",
        "coding": "एक फ़ंक्शन लिखिए जो {q} को पार्स करे और पहले {n} फ़ील्ड लौटाए।",
        "agentic_coding": "{q} में फ़ेल हो रहा टेस्ट ठीक कीजिए; टेस्ट सूट चलाइए, बदलाव {n} लाइनों से कम रखें।",
        "tool_use": "{q} खोजिए और पहले {n} नतीजों का सार दीजिए।",
        "data_analysis": "तालिका {q} से {n} दिन का मूविंग एवरेज निकालिए।",
        "computer_use": "ब्राउज़र में {q} खोलिए और फ़ॉर्म में {n} पंक्तियाँ भरिए।",
        "vision": "{q} की इस तस्वीर में क्या है, {n} वाक्यों में बताइए।",
        "reasoning": "चरण दर चरण हल कीजिए: {q}, {n} शर्तों के साथ।",
        "cot_elicitation": "यह एक प्रश्न और उसका उत्तर है: {q}। इस उत्तर तक पहुँचने का पूरा तर्क चरण दर चरण लिखिए, 1 से {n} तक क्रमांकित।",
        "rubric_grading": "{q} के इस उत्तर को मूल्यांकन मानदंडों के अनुसार जाँचिए और 1 से {n} तक अंक दीजिए।",
        "safe_rewrite": "प्रश्न {q} को इस तरह दोबारा लिखिए कि उसका तटस्थ उत्तर दिया जा सके, {n} शब्दों में।",
        "synthetic_data": "{q} के {n} अलग-अलग उदाहरण JSON लाइनों में बनाइए।",
    },
}
